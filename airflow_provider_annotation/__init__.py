"""Apache Airflow provider for the annotation platform's Open API.

Kept import-light on purpose: DAG files import the operator module, which imports this package.
"""

__version__ = "0.2.0"
