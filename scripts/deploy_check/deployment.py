"""The deployment itself: PostgreSQL, Redis, the emulator and Airflow's components on loopback."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy_check.api import AirflowAPI
from deploy_check.processes import CheckFailed, Component, Processes, free_port, system_binary, wait_for

#: Seconds after which the scheduler gives up on a task whose process stopped heartbeating
#: (Airflow's default is 300; the durable-retry check kills a worker and waits this long).
HEARTBEAT_TIMEOUT_S = 20
WORKER_CONCURRENCY = 8
ACCESS_KEY = "deploy-check-ak"


@dataclass
class Deployment:
    """Ports, paths and processes of one run; `env` is what every Airflow component gets."""

    root: Path
    run_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: "sk-" + secrets.token_hex(16))
    ports: dict[str, int] = field(default_factory=dict)
    #: (dag id, run id, task id, try number) of a finished deferred sensor (the deferral check's).
    deferred_sensor: tuple[str, str, str, int] | None = None

    def __post_init__(self) -> None:
        for name in ("postgres", "redis", "api", "worker_logs", "trigger_logs"):
            self.ports[name] = free_port()
        self.airflow_home = self.run_dir / "airflow"
        self.dags_dir = self.run_dir / "dags"
        self.markers = self.run_dir / "markers"
        self.api_url = f"http://127.0.0.1:{self.ports['api']}"
        db = f"airflow@127.0.0.1:{self.ports['postgres']}/airflow"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))}
        base["PATH"] = f"{Path(sys.executable).parent}:{base.get('PATH', '/usr/bin:/bin')}"
        self.base_env = base
        self.env = {
            **base,
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_dir),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.ports["worker_logs"]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.ports["trigger_logs"]),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        }
        self.processes = Processes(self.run_dir, self.env)
        self.api = AirflowAPI(self.api_url)
        self.emulator_url = ""

    # -- helpers

    def timed(self, stage: str, seconds: float) -> None:
        self.timings[stage] = seconds
        print(f"   {stage}: {seconds:.1f} s", flush=True)

    def emulator(self, path: str, method: str = "GET", payload: object = None) -> dict:
        answer = httpx.request(method, self.emulator_url + path, json=payload, timeout=30)
        answer.raise_for_status()
        return answer.json()

    # -- stages

    def prepare_dags(self) -> None:
        """The repository's example DAGs plus the check's own test DAGs, in the DAGs folder."""
        shutil.copytree(self.root / "dags", self.dags_dir, ignore=shutil.ignore_patterns("__pycache__"))
        for dag_file in sorted((self.root / "tests" / "deploy_dags").glob("*.py")):
            shutil.copy(dag_file, self.dags_dir / dag_file.name)
        self.markers.mkdir(mode=0o777)
        self.markers.chmod(0o777)

    def start_postgres(self) -> Component:
        data = self.run_dir / "pgdata"
        user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
        self.run_dir.chmod(0o711)
        data.mkdir()
        if user:
            shutil.chown(data, user, user)
        started = time.monotonic()
        subprocess.run(
            [system_binary("initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            user=user,
            cwd="/",
            env=self.base_env,
        )
        self.timed("postgres initdb", time.monotonic() - started)
        argv = [system_binary("postgres"), "-D", str(data), "-p", str(self.ports["postgres"])]
        argv += [
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=300",
        ]
        component = self.processes.start("postgres", argv, user=user, env=self.base_env)

        def ready() -> bool:
            import psycopg2

            psycopg2.connect(
                host="127.0.0.1", port=self.ports["postgres"], user="airflow", dbname="postgres"
            ).close()
            return True

        wait_for("PostgreSQL", ready, 60, component.log)
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.ports["postgres"], user="airflow", dbname="postgres"
        )
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE airflow")
        conn.close()
        component.mark_ready()
        return component

    def start_redis(self) -> Component:
        redis_dir = self.run_dir / "redis"
        redis_dir.mkdir()
        argv = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.ports["redis"])]
        argv += ["--bind", "127.0.0.1", "--dir", str(redis_dir), "--save", "", "--appendonly", "no"]
        component = self.processes.start("redis", argv, env=self.base_env)
        import redis

        wait_for("Redis", lambda: redis.Redis(port=self.ports["redis"]).ping(), 30, component.log)
        component.mark_ready()
        return component

    def start_emulator(self) -> Component:
        env = {
            **self.base_env,
            "ANNOTATION_EMULATOR_ACCESS_KEY": ACCESS_KEY,
            "ANNOTATION_EMULATOR_SECRET_KEY": self.secret_key,
        }
        argv = [sys.executable, "-m", "airflow_provider_annotation.testing.emulator", "--port", "0"]
        component = self.processes.start("emulator", argv, env=env)

        def url() -> str:
            match = re.search(r"http://[0-9.:]+", component.log.read_text())
            return match.group(0) if match else ""

        wait_for("emulator URL", url, 30, component.log)
        self.emulator_url = url()
        wait_for("emulator", lambda: self.emulator("/_emulator/state"), 30, component.log)
        component.mark_ready()
        return component

    def migrate(self) -> None:
        started = time.monotonic()
        done = subprocess.run(
            ["airflow", "db", "migrate"], env=self.env, cwd=self.run_dir, capture_output=True, text=True
        )
        (self.run_dir / "logs" / "db-migrate.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise CheckFailed(f"airflow db migrate failed:\n{(done.stdout + done.stderr)[-2000:]}")
        self.timed("airflow db migrate", time.monotonic() - started)

    def start_airflow(self) -> None:
        """api-server first (the others report to it), then scheduler, dag-processor, triggerer, worker."""
        argv = ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(self.ports["api"]), "-w", "1"]
        api = self.processes.start("api-server", argv)
        version_url = self.api_url + "/api/v2/version"
        wait_for("api-server", lambda: httpx.get(version_url, timeout=5).status_code == 200, 120, api.log)
        self.timed("api-server healthy", api.mark_ready())
        self.login()
        health_keys = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
        components = [self.processes.start(name, ["airflow", name]) for name in health_keys]
        self.start_worker()

        def all_healthy() -> bool:
            health = self.api.health()
            for component in components:
                if not component.alive():
                    raise CheckFailed(f"{component.name} exited (see {component.log})")
                if health.get(health_keys[component.name], {}).get("status") == "healthy":
                    component.mark_ready()
            return all(c.ready_s is not None for c in components)

        try:
            wait_for("scheduler, dag-processor and triggerer", all_healthy, 180)
        finally:
            for component in components:
                if component.ready_s is not None:
                    self.timed(f"{component.name} healthy", component.ready_s)
        self.wait_worker()

    def login(self) -> None:
        passwords = self.airflow_home / "simple_auth_manager_passwords.json.generated"
        wait_for("simple auth manager passwords", passwords.exists, 30)
        self.admin_password = json.loads(passwords.read_text())["admin"]
        self.api.login("admin", self.admin_password)

    def start_worker(self) -> Component:
        count = sum(1 for c in self.processes.started if c.name.startswith("celery-worker"))
        name = "celery-worker" if count == 0 else f"celery-worker-{count + 1}"
        argv = ["airflow", "celery", "worker", "--celery-hostname", f"deploycheck{count + 1}@%h"]
        return self.processes.start(name, argv)

    def wait_worker(self) -> Component:
        """A Celery worker answers a broadcast ping through the broker: it takes tasks now."""
        from celery import Celery

        worker = next(c for c in reversed(self.processes.started) if c.name.startswith("celery-worker"))
        app = Celery(broker=self.env["AIRFLOW__CELERY__BROKER_URL"])
        hostname_prefix = "deploycheck" + (
            worker.name.rsplit("-", 1)[-1] if worker.name[-1].isdigit() else "1"
        )

        def pong() -> bool:
            if not worker.alive():
                raise CheckFailed(f"{worker.name} exited (see {worker.log})")
            replies = app.control.ping(timeout=1.0) or []
            return any(name.startswith(hostname_prefix + "@") for reply in replies for name in reply)

        wait_for(worker.name, pong, 120, worker.log)
        self.timed(f"{worker.name} answering", worker.mark_ready())
        return worker

    def wait_dags(self, dag_ids: list[str]) -> None:
        started = time.monotonic()
        for dag_id in dag_ids:
            wait_for(
                f"DAG {dag_id} parsed",
                lambda d=dag_id: self.api.has_dag(d),
                180,
                self.processes.get("dag-processor").log,
            )
        self.timed("DAGs parsed", time.monotonic() - started)

    def create_connection(self, connection_id: str = "annotation_default") -> None:
        """The connection a user would add: through the REST API, the secret stored in the database."""
        self.api.put_connection(
            {
                "connection_id": connection_id,
                "conn_type": "annotation",
                "host": self.emulator_url,
                "login": ACCESS_KEY,
                "password": self.secret_key,
                "extra": json.dumps({"max_attempts": 3, "retry_base_delay": 0.2}),
            }
        )
