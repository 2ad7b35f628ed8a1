"""The deployment check: a production-shaped Airflow on loopback, driven through its REST API.

Run by ``scripts/deploy-check.sh`` inside its own virtualenv (Airflow with the Celery executor and
the provider installed from its wheel). Not part of the provider's package.
"""
