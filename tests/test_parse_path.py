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
