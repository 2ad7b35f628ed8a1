"""Test helpers: a local emulator of the annotation platform and the faults it can inject.

Free of Airflow, so it serves demos, this project's tests and users' own DAG tests alike.
`Emulator` is imported on first use: `python -m airflow_provider_annotation.testing.emulator` must
not find its own module already imported by this package (runpy warns about that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_annotation.testing.faults import Fault

if TYPE_CHECKING:
    from airflow_provider_annotation.testing.emulator import Emulator

__all__ = ["Emulator", "Fault"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from airflow_provider_annotation.testing.emulator import Emulator

        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
