"""What a DAG file pulls in when it imports the provider's DAG-facing modules: no HTTP, retry,
storage or lineage library, and (for the operators) no hook. Those load when a task runs, so a
scheduler parsing hundreds of DAGs pays nothing for them. One fresh interpreter per module, so each
module is charged only with what it imports itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

HTTP = ("requests", "urllib3", "httpx", "httpcore", "aiohttp")
#: The hooks' HTTP adapters; `hooks.retry` and `hooks.config` are pure decisions and may load.
HOOK_ADAPTERS = (
    "airflow_provider_annotation.hooks.annotation",
    "airflow_provider_annotation.hooks.async_annotation",
    "airflow_provider_annotation.hooks.async_transport",
    "airflow_provider_annotation.hooks.sync_transport",
)
ANY_HOOK = ("airflow_provider_annotation.hooks",)

#: module -> (top-level packages it must not import, module prefixes it must not import)
PARSE_PATH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "airflow_provider_annotation.operators.annotation": (HTTP + ("tenacity", "fastapi", "uvicorn"), ANY_HOOK),
    "airflow_provider_annotation.operators.project_setup": (HTTP + ("tenacity",), ANY_HOOK),
    "airflow_provider_annotation.operators.export": (HTTP + ("tenacity", "fsspec", "upath"), ANY_HOOK),
    "airflow_provider_annotation.operators.send_tasks": (HTTP, ANY_HOOK),
    "airflow_provider_annotation.operators.datasets": (HTTP + ("tenacity", "fsspec", "upath"), ANY_HOOK),
    "airflow_provider_annotation.links": (HTTP, ANY_HOOK),
    # The sensor imports only `waiting` (no hook, no retry library) and loads the trigger module only
    # when it defers. `waiting` asks `hooks.retry` on a poll's first error; the hook's httpx adapter
    # loads in the trigger's `run()`, on the triggerer.
    "airflow_provider_annotation.sensors.annotation": (HTTP, HOOK_ADAPTERS),
    "airflow_provider_annotation.triggers.annotation": (HTTP, HOOK_ADAPTERS),
}


@pytest.mark.parametrize("module", sorted(PARSE_PATH))
def test_importing_a_dag_facing_module_loads_no_http_retry_storage_or_lineage_library(module: str) -> None:
    probe = (
        "import sys, airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        "print(*sorted(set(sys.modules) - before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    added = done.stdout.split()
    assert module in added  # the probe saw the import
    roots, prefixes = PARSE_PATH[module]
    loaded = [m for m in added if m.split(".")[0] in roots or "openlineage" in m or m.startswith(prefixes)]
    assert loaded == []


#: What a DAG that uses only `CreateWorkflowOperator` must not pay for at parse time: the other
#: operator modules (re-exported lazily) and the model (imported inside `execute`).
NOT_FOR_CREATE_WORKFLOW = (
    "airflow_provider_annotation.operators.project_setup",
    "airflow_provider_annotation.operators.send_tasks",
    "airflow_provider_annotation.operators.export",
    "airflow_provider_annotation.operators.datasets",
    "airflow_provider_annotation.workflow",
    "airflow_provider_annotation.project",
    "airflow_provider_annotation.coercion",
    "airflow_provider_annotation.status",
    "airflow_provider_annotation.exceptions",
)


def test_importing_create_workflow_operator_loads_no_other_operator_module_and_no_model() -> None:
    probe = (
        "import sys, airflow.sdk\n"
        "from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator\n"
        "print(*sorted(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "airflow_provider_annotation.operators.annotation" in loaded
    assert sorted(loaded.intersection(NOT_FOR_CREATE_WORKFLOW)) == []


def test_the_other_operators_stay_importable_from_the_operator_module() -> None:
    """Earlier releases re-exported them there; now each loads on first use."""
    import airflow_provider_annotation.operators.annotation as module
    from airflow_provider_annotation.operators.project_setup import CreateProjectsOperator
    from airflow_provider_annotation.operators.send_tasks import SendTasksOperator

    assert module.CreateProjectsOperator is CreateProjectsOperator
    assert module.SendTasksOperator is SendTasksOperator
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchOperator'"):
        module.NoSuchOperator  # noqa: B018
