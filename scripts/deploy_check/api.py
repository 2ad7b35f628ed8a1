"""Airflow's public REST API v2, as a user's own tooling drives it: a bearer token from POST /auth/token."""

from __future__ import annotations

import time
from typing import Any

import httpx

from deploy_check.processes import CheckFailed

TERMINAL = {"success", "failed"}


class AirflowAPI:
    """The calls the check needs, each one documented REST endpoint."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base_url, timeout=30)

    def login(self, username: str, password: str) -> None:
        answer = self.client.post("/auth/token", json={"username": username, "password": password})
        if answer.status_code not in (200, 201):
            raise CheckFailed(f"POST /auth/token answered {answer.status_code}: {answer.text[:200]}")
        self.client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, "/api/v2" + path, **kwargs)
        if answer.status_code >= 400:
            raise CheckFailed(f"{method} /api/v2{path} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None

    # -- health and DAGs

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/monitor/health")

    def has_dag(self, dag_id: str) -> bool:
        answer = self.client.get(f"/api/v2/dags/{dag_id}")
        return answer.status_code == 200

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        run = self.call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
        return run["dag_run_id"]

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def wait_run(self, dag_id: str, run_id: str, timeout: float, on_poll: Any = None) -> dict[str, Any]:
        """Poll the run until it ends; CheckFailed at the deadline with the task states seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in TERMINAL:
                return run
            if on_poll is not None:
                on_poll()
            time.sleep(1)
        states = {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
        raise CheckFailed(f"{dag_id} run {run_id} not finished after {timeout:.0f} s; task states: {states}")

    # -- task instances, XComs, logs

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.call(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": len(found)},
            )
            found.extend(page["task_instances"])
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        entry = self.call(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            params={"map_index": map_index, "deserialize": True},
        )
        return entry["value"]

    def log_text(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The task's log for one try, as the UI shows it (the endpoint answers JSON only)."""
        answer = self.call(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": True, "map_index": map_index},
            headers={"Accept": "application/json"},
        )
        content = answer.get("content", "")
        if isinstance(content, list):
            return "\n".join(
                str(item.get("event", item)) if isinstance(item, dict) else str(item) for item in content
            )
        return str(content)

    # -- connections

    def put_connection(self, connection: dict[str, Any]) -> None:
        self.client.delete(f"/api/v2/connections/{connection['connection_id']}")
        self.call("POST", "/connections", json=connection)

    def set_connection_port(self, connection_id: str, conn_type: str, port: int) -> None:
        self.call(
            "PATCH",
            f"/connections/{connection_id}",
            params={"update_mask": "port"},
            json={"connection_id": connection_id, "conn_type": conn_type, "port": port},
        )

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        return self.call("GET", f"/connections/{connection_id}")
