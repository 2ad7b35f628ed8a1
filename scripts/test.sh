#!/usr/bin/env bash
# The whole test suite: unit tests, the hook against the emulator over real HTTP, and every
# example DAG through real `airflow dags test`. Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
exec python -m pytest "$@"
