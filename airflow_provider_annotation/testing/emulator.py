"""A local stand-in for the annotation platform's Open API, over real HTTP on loopback.

Demos, this project's tests and users' own DAG tests talk to this emulator instead of the platform:
same paths, same signed headers, same response envelope and codes as the platform's documented
Open API, plus injectable faults (``faults.Fault``) to exercise the client's error handling.
Deliberately free of Airflow.

The platform's rules are in `openapi`, what it remembers in `state`, the ASGI app (routes, fault
layer) in `asgi`;
this module serves them: the listening socket, uvicorn, the `Emulator` class and the CLI.

Run it in-process (``with Emulator() as emu: ...``) or as a process::

    python -m airflow_provider_annotation.testing.emulator --port 0
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import uvicorn

from airflow_provider_annotation.testing.asgi import FaultLayer, build_asgi_app
from airflow_provider_annotation.testing.faults import Fault
from airflow_provider_annotation.testing.state import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    DEFAULT_SIGNATURE_WINDOW_S,
    EmulatorState,
    Settings,
    check_api_version,
    check_pacing,
)

# One rule for "loopback" with the hook's plain-http check (that module imports no Airflow).
from airflow_provider_annotation.urls import is_loopback

#: Longer than any client pool's idle time, so the server never closes a connection under a client.
KEEP_ALIVE_S = 75
ACCESS_KEY_ENV = "ANNOTATION_EMULATOR_ACCESS_KEY"
SECRET_KEY_ENV = "ANNOTATION_EMULATOR_SECRET_KEY"
DEFAULT_ACCESS_KEY = "emulator-ak"
DEFAULT_SECRET_KEY = "emulator-sk"
STARTUP_TIMEOUT_S = 10.0

__all__ = ["Emulator", "import_error", "main", "parse_args"]


# --- Serving --------------------------------------------------------------------------------


def import_error(unique_identifier: str, error: str, json_line: str | None = None) -> dict[str, str]:
    """One entry of an import batch's `errors`, as the docs' sample writes it (for `set_batch`);
    `jsonLine` is the start of the record's own line."""
    line = (
        json_line if json_line is not None else f'{{"uniqueIdentifier": "{unique_identifier}", "attachment": '
    )
    return {"uniqueIdentifier": unique_identifier, "jsonLine": line, "error": error}


def _normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip().rstrip("/")
    return prefix if not prefix or prefix.startswith("/") else "/" + prefix


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket; binding ourselves makes port 0 usable (the real port is known at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when it sees it,
    # and without TCP_NODELAY a keep-alive client waits ~40 ms for a delayed ACK on every call.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _server(app: FaultLayer, log_config: Any = None) -> uvicorn.Server:
    """A quiet uvicorn server; h11 and asyncio are explicit because `drop` relies on their transport."""
    config = uvicorn.Config(
        app,
        http="h11",
        loop="asyncio",
        interface="asgi3",
        lifespan="off",
        proxy_headers=False,
        log_level="warning",
        access_log=False,
        log_config=log_config,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


class Emulator:
    """The platform emulator on a loopback port: ``with Emulator(port=0) as emu: emu.url``.

    Each instance has its own state, so several can run in one process. `api_version` picks which
    Create Workflow it serves ("2024-07": ``/annotation/workflow/create`` with ``workflow.pools``;
    "2024-08": ``/workflow/create`` with ``workflow.vertex``). `data_ids` lists the data that
    exists; by default every data id does except those starting with ``missing-``/``unknown-``.
    `complete_after` (seconds) makes tasks complete on their own that long after creation.
    `latency` (seconds) delays every platform answer; past `rate_limit` requests per second the
    emulator answers HTTP 429 with `Retry-After`, as a busy platform would.
    """

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        signature_window: float = DEFAULT_SIGNATURE_WINDOW_S,
        clock_offset_ms: int = 0,
        known_projects: Iterable[int] | None = None,
        projects: Iterable[Mapping[str, Any]] = (),
        api_version: str = DEFAULT_API_VERSION,
        data_ids: Iterable[str] | None = None,
        complete_after: float | None = None,
        latency: float = 0.0,
        rate_limit: float | None = None,
    ) -> None:
        settings = Settings(
            access_key=access_key or os.environ.get(ACCESS_KEY_ENV) or DEFAULT_ACCESS_KEY,
            secret_key=secret_key or os.environ.get(SECRET_KEY_ENV) or DEFAULT_SECRET_KEY,
            signature_window_s=signature_window,
            clock_offset_ms=clock_offset_ms,
            known_projects=None if known_projects is None else frozenset(known_projects),
            prefix=_normalize_prefix(prefix),
            api_version=api_version,
            known_data_ids=None if data_ids is None else frozenset(data_ids),
            complete_after_s=complete_after,
            latency_s=latency,
            rate_limit=rate_limit,
        )
        self.host = host
        self.port = port
        self.state = EmulatorState(settings, projects)
        self.app = build_asgi_app(self.state)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle

    def bind(self) -> socket.socket:
        """Bind the listening socket (fixing `port` when it was 0) without serving yet."""
        if self._socket is None:
            self._socket = _bind(self.host, self.port)
            self.port = self._socket.getsockname()[1]
        return self._socket

    def start(self) -> Emulator:
        """Serve from a daemon thread; returns once the server is up."""
        if self._thread is not None:
            return self
        sock = self.bind()
        self._server = _server(self.app)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"annotation-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (self._server and self._server.started):
            if not (self._thread and self._thread.is_alive()) or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the annotation emulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI; uvicorn handles SIGINT/SIGTERM)."""
        _server(self.app, log_config=uvicorn.config.LOGGING_CONFIG).run(sockets=[self.bind()])

    def stop(self) -> None:
        """Stop serving and release the port; the recorded state stays readable."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests use

    @property
    def url(self) -> str:
        """The base URL to configure a connection with (includes the prefix)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.state.settings.prefix}"

    @property
    def access_key(self) -> str:
        return self.state.settings.access_key

    @property
    def clock_offset_ms(self) -> int:
        """How far the emulator's clock is off; set it to provoke (or cure) Signature Expired."""
        return self.state.settings.clock_offset_ms

    @clock_offset_ms.setter
    def clock_offset_ms(self, value: int) -> None:
        self.state.settings.clock_offset_ms = value

    @property
    def complete_after_s(self) -> float | None:
        """Tasks complete on their own this many seconds after creation; None (default): never."""
        return self.state.settings.complete_after_s

    @complete_after_s.setter
    def complete_after_s(self, value: float | None) -> None:
        self.state.settings.complete_after_s = value

    @property
    def latency(self) -> float:
        """Seconds every platform request takes before it is answered (default 0)."""
        return self.state.settings.latency_s

    @latency.setter
    def latency(self, value: float) -> None:
        check_pacing(value, self.state.settings.rate_limit)
        self.state.settings.latency_s = value

    @property
    def rate_limit(self) -> float | None:
        """Platform requests per second past which the answer is 429 with `Retry-After`; None: no limit."""
        return self.state.settings.rate_limit

    @rate_limit.setter
    def rate_limit(self, value: float | None) -> None:
        check_pacing(self.state.settings.latency_s, value)
        self.state.settings.rate_limit = value

    @property
    def tasks_complete_after_reads(self) -> int:
        """A task nobody moved (status 1) is complete after this many status reads; 0: never."""
        return self.state.settings.tasks_complete_after_reads

    @tasks_complete_after_reads.setter
    def tasks_complete_after_reads(self, value: int) -> None:
        self.state.settings.tasks_complete_after_reads = value

    @property
    def api_version(self) -> str:
        """Which Create Workflow is served ("2024-07" or "2024-08"); may be switched while running."""
        return self.state.settings.api_version

    @api_version.setter
    def api_version(self, value: str) -> None:
        check_api_version(value)
        self.state.settings.api_version = value

    def inject(self, *faults: Fault) -> None:
        """Queue faults (FIFO) for the coming platform requests."""
        self.state.queue(faults)

    @property
    def workflows(self) -> dict[int, dict[str, Any]]:
        """Copy of the created workflows: id → {projectId, pools, default, requestId}."""
        return self.state.workflows

    @property
    def projects(self) -> dict[int, dict[str, Any]]:
        """Copy of the projects, seeded and created, by id (created ones carry their workflowId)."""
        return self.state.projects

    @property
    def folders(self) -> dict[int, dict[str, Any]]:
        """Copy of the created folders: id → {folderId, name, externalId, createdTime, requestId}."""
        return self.state.folders

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        """Copy of the tasks by id (a numeric string): projectId, workflowId, dataId, status, ..."""
        return self.state.tasks

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        """Copy of the task import batches by id."""
        return self.state.batches

    def add_projects(self, projects: Iterable[Mapping[str, Any]]) -> list[int]:
        """Add projects as if created (e.g. `state.decoy_projects()`); `reset` forgets them."""
        return [self.state.add_project(project) for project in projects]

    def set_task_status(self, task_id: str, status: int, *, completed_at: datetime | None = None) -> None:
        """Move a task to a status (1-10), as the platform's workers would; status 9 records the
        completion time `completed_at` (timezone-aware; default now), which ``/tasks/export`` selects by."""
        complete_ms = None if completed_at is None else int(completed_at.timestamp() * 1000)
        try:
            self.state.set_task_status(
                str(task_id), status, self.state.now_ms(), complete_time_ms=complete_ms
            )
        except KeyError:
            raise KeyError(f"no task {task_id!r} in the emulator") from None

    @property
    def datasets(self) -> dict[str, dict[str, Any]]:
        """Copy of the datasets by id (``status``, ``readsLeft``, ``scenes``, the fields sent)."""
        return self.state.datasets

    def set_dataset(self, dataset_id: str, **fields: Any) -> None:
        """Change a dataset: ``status`` (1, 2, -1; ends its countdown), ``scenes`` (mapping size),
        ``readsLeft`` with ``finalStatus`` (KeyError for an unknown dataset)."""
        with self.state.locked():
            dataset = self.state.dataset(str(dataset_id))
            if dataset is None:
                raise KeyError(dataset_id)
            dataset.update(fields)
            if "status" in fields:
                dataset["readsLeft"] = 0

    def set_batch(self, batch_id: str, **fields: Any) -> None:
        """Change an import batch as the platform's importer would: ``status``, ``taskCount``,
        ``importFailCount``, ``errors`` (KeyError for an unknown batch). Each error is the docs'
        object ``{"uniqueIdentifier", "jsonLine", "error"}`` (ValueError otherwise; `import_error`
        builds one)."""
        for error in fields.get("errors") or []:
            if not isinstance(error, dict) or set(error) != {"uniqueIdentifier", "jsonLine", "error"}:
                raise ValueError(
                    f"an import error is {{uniqueIdentifier, jsonLine, error}} per the docs, not {error!r}"
                )
        with self.state.locked():
            batch = self.state.batch(str(batch_id))
            if batch is None:
                raise KeyError(batch_id)
            batch.update(fields)
            if "status" in fields:
                batch["pollsLeft"] = 0

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Copy of the platform requests received (method, path, endpoint, headers, body, json,
        fault, requestId, status, code), oldest first."""
        return self.state.requests

    @property
    def faults(self) -> list[Fault]:
        """Copy of the faults still queued."""
        return self.state.pending_faults

    def clear_faults(self) -> int:
        """Drop the faults still queued (keeping everything else); returns how many there were."""
        return self.state.clear_faults()

    def reset(self) -> None:
        """Forget everything created (seeded projects come back), the requests and queued faults."""
        self.state.reset()


# --- CLI ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_annotation.testing.emulator",
        description="Serve a local emulator of the annotation platform's Open API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    parser.add_argument("--access-key", default=None, help=f"${ACCESS_KEY_ENV} or {DEFAULT_ACCESS_KEY}")
    parser.add_argument("--secret-key", default=None, help=f"${SECRET_KEY_ENV} or {DEFAULT_SECRET_KEY}")
    parser.add_argument("--signature-window", type=float, default=DEFAULT_SIGNATURE_WINDOW_S, help="seconds")
    parser.add_argument("--clock-offset-ms", type=int, default=0, help="skew the emulator's clock")
    parser.add_argument("--prefix", default="", help="base URL path prefix, e.g. /openapi")
    parser.add_argument(
        "--api-version",
        choices=API_VERSIONS,
        default=DEFAULT_API_VERSION,
        help="which Create Workflow to serve: 2024-07 (/annotation/workflow/create, pools) "
        "or 2024-08 (/workflow/create, vertex)",
    )
    parser.add_argument(
        "--tasks-complete-after-reads",
        type=int,
        default=2,
        help="a task nobody moved is complete after this many status reads, so waiting DAGs finish "
        "(0: tasks move only through the control plane)",
    )
    parser.add_argument(
        "--complete-after",
        type=float,
        default=None,
        help="seconds after creation at which tasks complete on their own (default: never)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every platform request takes (default 0)"
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="platform requests per second past which the answer is HTTP 429 with Retry-After "
        "(default: no limit)",
    )
    parser.add_argument(
        "--dataset-reads-until-ready",
        type=int,
        default=2,
        help="an imported dataset is READY (or ERROR, for a resourceUrl containing 'broken') on this "
        "status read (0: at once)",
    )
    parser.add_argument(
        "--dataset-scenes", type=int, default=3, help="mapping entries (scenes) of each new dataset"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the base URL (one flushed line) and serve until interrupted. Never prints the secret."""
    args = parse_args(argv)
    emulator = Emulator(
        args.access_key,
        args.secret_key,
        host=args.host,
        port=args.port,
        prefix=args.prefix,
        signature_window=args.signature_window,
        clock_offset_ms=args.clock_offset_ms,
        api_version=args.api_version,
        complete_after=args.complete_after,
        latency=args.latency,
        rate_limit=args.rate_limit,
    )
    emulator.state.settings.tasks_complete_after_reads = args.tasks_complete_after_reads
    emulator.state.settings.dataset_reads_until_ready = args.dataset_reads_until_ready
    emulator.state.settings.dataset_scenes = args.dataset_scenes
    emulator.bind()
    if not is_loopback(args.host):
        print(
            f"WARNING: the emulator listens on {args.host}, beyond this machine. Its control plane "
            f"({emulator.url}/_emulator/...) is unauthenticated: anyone who can reach it can read "
            "the recorded requests and state, queue faults and reset it.",
            file=sys.stderr,
            flush=True,
        )
    print(f"Annotation emulator listening on {emulator.url}", flush=True)
    # uvicorn shuts down cleanly on Ctrl-C, then re-raises it: nothing is left to report.
    with contextlib.suppress(KeyboardInterrupt):
        emulator.serve_forever()


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    main()
