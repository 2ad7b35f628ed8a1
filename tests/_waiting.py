"""Moved to tests/helpers.py; these names stay importable from here for branches still using them."""

from tests.helpers import OPERATORS, RequestWatch, collect, make_tasks, set_conn

__all__ = ["OPERATORS", "RequestWatch", "collect", "make_tasks", "set_conn"]
