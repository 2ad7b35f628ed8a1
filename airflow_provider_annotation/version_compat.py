"""Which Airflow this runs on, for the few places where the provider behaves differently.

Base classes, exceptions and SDK names come from ``airflow.providers.common.compat.sdk``, which maps
them to the right module on every Airflow from 2.11 on; this module only adds the version flags
(the same shape as the official providers' ``version_compat``) and the async connection lookup
triggers need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Connection


def get_base_airflow_version_tuple() -> tuple[int, int, int]:
    from airflow import __version__
    from packaging.version import Version

    airflow_version = Version(__version__)
    return airflow_version.major, airflow_version.minor, airflow_version.micro


AIRFLOW_V_3_0_PLUS: bool = get_base_airflow_version_tuple() >= (3, 0, 0)
#: 3.2 reads the connection form from the provider info ("conn-fields"); older versions ask the hook.
AIRFLOW_V_3_2_PLUS: bool = get_base_airflow_version_tuple() >= (3, 2, 0)
#: 3.3 gives tasks a durable ``task_state_store``; older versions run without one (with a warning).
AIRFLOW_V_3_3_PLUS: bool = get_base_airflow_version_tuple() >= (3, 3, 0)


async def aget_connection(conn_id: str) -> Connection:
    """The connection ``conn_id``, looked up without blocking the event loop, on every Airflow.

    ``BaseHook.aget_connection`` exists only from Airflow 3.1 (and masks secrets with a blocking call
    before 3.3.2); elsewhere the synchronous lookup runs in a worker thread. For triggers and other
    code on an event loop.
    """
    from airflow.providers.common.compat.connection import get_async_connection

    return await get_async_connection(conn_id)


__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "aget_connection",
]
