"""Test helpers: a local emulator of the annotation platform and the faults it can inject.

Free of Airflow, so it serves demos, this project's tests and users' own DAG tests alike.
"""

from airflow_provider_annotation.testing.emulator import Emulator
from airflow_provider_annotation.testing.faults import Fault

__all__ = ["Emulator", "Fault"]
