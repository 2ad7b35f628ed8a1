"""What every operator and the sensor share to reach the platform: one hook per task instance.

The dbt Cloud and Databricks providers' pattern: ``annotation_conn_id`` is an argument (and a
template field), and `hook` is a cached property built on first use inside ``execute``, never at
parse time. The connection is resolved and checked when the hook is made, so a bad connection
fails before anything is sent, at once, without Airflow retries.

Imports no HTTP library: the hook module is imported when the hook is first used.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from airflow.providers.common.compat.sdk import AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

DEFAULT_CONN_ID = "annotation_default"


def connection_failure(err: AnnotationConnectionConfigError, conn_id: str) -> AirflowFailException:
    """A connection that breaks a rule fails at once: a retry would read the same connection."""
    return AirflowFailException(
        f"{err}\nNothing was sent; not retrying: fix the connection {conn_id!r}, then clear the task."
    )


def open_hook(conn_id: str) -> AnnotationHook:
    """A hook whose connection is already resolved and checked, so a bad one fails before sending."""
    if not isinstance(conn_id, str) or not conn_id.strip():
        # A template field: it may render to anything (an XCom of None, a number).
        from airflow_provider_annotation.workflow import describe_value

        raise AirflowFailException(
            f"annotation_conn_id: expected the id of an Airflow connection, got {describe_value(conn_id)}"
            "\nNothing was sent; not retrying: fix the task's arguments."
        )
    from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    hook = AnnotationHook(annotation_conn_id=conn_id)
    try:
        hook.config  # noqa: B018 - resolves and checks the connection
    except AnnotationConnectionConfigError as err:
        raise connection_failure(err, conn_id) from err
    return hook


class AnnotationHookMixin:
    """Gives an operator or sensor its `hook`, made once per task instance from
    ``annotation_conn_id``, and `close_hook` to release its connections when ``execute`` ends."""

    annotation_conn_id: str

    @cached_property
    def hook(self) -> AnnotationHook:
        return open_hook(self.annotation_conn_id)

    def close_hook(self) -> None:
        """Close the hook if one was made (a deferred task resumes with a fresh one)."""
        hook = self.__dict__.pop("hook", None)
        if hook is not None:
            hook.close()
