"""The operator link to the platform's web UI, from the connection extra `ui_url_template`.

The platform documents no URL pattern for its web UI, so the link exists only when the connection
says how to build it. The URL is pushed to XCom as soon as the id is known, before any wait, so the
link works while the task is deferred.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskInstanceKey

    from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig

__all__ = ["PLATFORM_URL_KEY", "AnnotationPlatformLink", "platform_url", "push_no_link", "push_platform_url"]

#: XCom key holding the rendered link.
PLATFORM_URL_KEY = "annotation_platform_url"


class AnnotationPlatformLink(BaseOperatorLink):
    """ "Annotation platform": the project (or import batch) this task works on, in the web UI."""

    name = "Annotation platform"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        return XCom.get_value(ti_key=ti_key, key=PLATFORM_URL_KEY) or ""


def platform_url(template: str | None, **ids: object) -> str | None:
    """The template with the ids filled in, each URL-quoted (a batch id is an opaque string: ``/``,
    ``?`` or ``#`` in it must not change where the link points); None without a template or when it
    needs an id this task does not have (a batch page for a task that sends no batch).

    The template was checked where the connection was read (`hooks.config`): only bare
    ``{project_id}``/``{batch_id}`` placeholders, so formatting cannot fail or grow here."""
    if not template:
        return None
    try:
        return template.format(
            **{key: quote(str(value), safe="") for key, value in ids.items() if value is not None}
        )
    except (KeyError, IndexError):
        return None


def push_platform_url(context: Any, config: AnnotationConnectionConfig, log: Any, **ids: object) -> None:
    """Push the link for `ids` to XCom now (before waiting). Without a template an empty one is
    pushed: Airflow reads the key at the end of every task with the link, and a missing key logs an
    error line ("XCom not found") in a green run. Outside a task run (no ``ti``) only logs."""
    url = platform_url(config.ui_url_template, **ids)
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is not None:
        ti.xcom_push(key=PLATFORM_URL_KEY, value=url or "")
    if url is not None:
        log.info("On the platform: %s", url)


def push_no_link(context: Any) -> None:
    """Push an empty link for a task with the link that has no id to show (a dry run), so the
    read at the end of the task finds the key and logs no "XCom not found" error."""
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is not None:
        ti.xcom_push(key=PLATFORM_URL_KEY, value="")
