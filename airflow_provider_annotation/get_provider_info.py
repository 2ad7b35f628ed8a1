"""What Airflow learns about this provider without importing any of its hooks or operators.

Every module defining a public hook, operator, sensor or trigger is listed under its kind
(tests/test_provider_info.py finds them by walking the package, so a new one cannot be forgotten).
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-annotation",
        "name": "Annotation Platform",
        "description": "Set up data-annotation projects on the annotation platform's Open API from DAGs: "
        "signed requests, typed errors, workflows from templated parameters.",
        "versions": ["0.2.0", "0.1.0"],
        "integrations": [
            {
                "integration-name": "Annotation Platform",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Annotation Platform",
                "python-modules": [
                    "airflow_provider_annotation.hooks.annotation",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "Annotation Platform",
                "python-modules": [
                    "airflow_provider_annotation.operators.annotation",
                    "airflow_provider_annotation.operators.project_setup",
                    "airflow_provider_annotation.operators.send_tasks",
                    "airflow_provider_annotation.operators.export",
                    "airflow_provider_annotation.operators.datasets",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Annotation Platform",
                "python-modules": ["airflow_provider_annotation.sensors.annotation"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Annotation Platform",
                "python-modules": ["airflow_provider_annotation.triggers.annotation"],
            }
        ],
        "extra-links": ["airflow_provider_annotation.links.AnnotationPlatformLink"],
        "connection-types": [
            {
                "connection-type": "annotation",
                "hook-class-name": "airflow_provider_annotation.hooks.annotation.AnnotationHook",
                "hook-name": "Annotation Platform",
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "schema"],
                    "relabeling": {
                        "host": "openAPI base URL",
                        "login": "Access Key ID",
                        "password": "Secret Key",
                    },
                    "placeholders": {
                        "host": "https://openapi.example.com (scheme included; may carry a path prefix)",
                        "login": "AccessKey ID",
                        "password": "AccessKey secret (never sent, only used to sign)",
                        "extra": '{"timeout": 60, "max_attempts": 5}',
                    },
                },
                "conn-fields": {
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Connect and read timeout for each request. For separate ones (or a "
                        'total per attempt) put {"connect": s, "read": s, "total": s} in Extra instead. '
                        "Default: connect 10, read 60.",
                        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 600},
                    },
                    "verify": {
                        "label": "Verify TLS",
                        "description": "Check the platform's TLS certificate (default on). To trust a "
                        'private CA, put its bundle\'s path on the workers in Extra: {"verify": "/path"}.',
                        "schema": {"type": ["boolean", "null"], "default": True},
                    },
                    "proxies": {
                        "label": "Proxies",
                        "description": 'Per-scheme proxies, e.g. {"https": "http://proxy:3128"}.',
                        "schema": {"type": ["object", "null"]},
                    },
                    "max_attempts": {
                        "label": "Max attempts",
                        "description": "How many times a request may be sent in all (default 5). Only "
                        "requests that cannot have acted twice are re-sent.",
                        "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 20},
                    },
                    "max_retry_wait": {
                        "label": "Max total retry wait (seconds)",
                        "description": "Upper bound on time spent waiting between attempts (default 60).",
                        "schema": {"type": ["number", "null"], "minimum": 0, "maximum": 3600},
                    },
                    "retry_base_delay": {
                        "label": "Retry base delay (seconds)",
                        "description": "First step of the exponential backoff with jitter (default 1).",
                        "schema": {"type": ["number", "null"], "minimum": 0, "maximum": 3600},
                    },
                    "allow_insecure_http": {
                        "label": "Allow plain http://",
                        "description": "Allow http:// to hosts other than loopback. The signature would "
                        "travel in clear: only for trusted networks.",
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                    "retry_ambiguous": {
                        "label": "Re-send ambiguous requests",
                        "description": "Also re-send requests whose answer was lost after sending (read "
                        "timeout, dropped connection, 502/504). May create duplicates. Default false.",
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                    "api_version": {
                        "label": "Workflow API version",
                        "description": "2024-07 (default): POST /annotation/workflow/create with "
                        "workflow.pools. 2024-08: POST /workflow/create with workflow.vertex (also for "
                        "Create Project's workflow). Ask the platform which one your account's server takes.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["2024-07", "2024-08", None],
                            "default": "2024-07",
                        },
                    },
                    "ui_url_template": {
                        "label": "Web UI link template",
                        "description": "The platform web UI's URL of a project, import batch or dataset, "
                        "with {project_id}, {batch_id} and/or {dataset_id}, e.g. "
                        "https://app.example.com/projects/{project_id}. "
                        "Operators show it as a link. Empty: no link.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
