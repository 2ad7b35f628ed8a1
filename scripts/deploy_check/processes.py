"""Start the deployment's components as separate processes, wait on their health, stop them by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class CheckFailed(Exception):
    """A component or a check did not do what it must; the message says what and where to look."""


def free_port() -> int:
    """A port nobody listens on now (the machine is shared: never a fixed one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, probe: Callable[[], object], timeout: float, log: Path | None = None) -> float:
    """Poll `probe` until it returns something truthy; seconds waited, or CheckFailed at the deadline."""
    start = time.monotonic()
    last_error: Exception | None = None
    while time.monotonic() - start < timeout:
        try:
            if probe():
                return time.monotonic() - start
        except Exception as exc:  # noqa: BLE001 - not up yet; keep the last reason for the message
            last_error = exc
        time.sleep(0.25)
    tail = ""
    if log is not None and log.exists():
        tail = (
            "\n  last lines of "
            + str(log)
            + ":\n"
            + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        )
    raise CheckFailed(f"{what} not ready after {timeout:.0f} s (last error: {last_error!r}){tail}")


def descendants(pid: int) -> list[int]:
    """All processes below `pid` (children first found by /proc), for killing a whole worker."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Component:
    """One started process: its name, PID, log file and when it became healthy."""

    name: str
    process: subprocess.Popen
    log: Path
    started_at: float = field(default_factory=time.monotonic)
    ready_s: float | None = None

    def mark_ready(self) -> float:
        """Seconds from start to healthy, recorded the first time it is seen healthy."""
        if self.ready_s is None:
            self.ready_s = time.monotonic() - self.started_at
        return self.ready_s

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Processes:
    """Every process this run started, recorded by PID (also in a file the shell trap reads)."""

    run_dir: Path
    env: dict[str, str]
    started: list[Component] = field(default_factory=list)
    pid_file: Path | None = None

    def start(
        self, name: str, argv: list[str], *, user: str | None = None, env: dict | None = None
    ) -> Component:
        log = self.run_dir / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
        process = subprocess.Popen(
            argv,
            cwd=self.run_dir,  # never the repository: its source must not shadow the installed wheel
            env=env or self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=user,
            start_new_session=True,  # its own process group: stopping it reaches its children too
        )
        out.close()
        component = Component(name, process, log)
        self.started.append(component)
        if self.pid_file is not None:
            with self.pid_file.open("a") as f:
                f.write(f"{process.pid} {name}\n")
        return component

    def get(self, name: str) -> Component:
        return next(c for c in reversed(self.started) if c.name == name)

    def kill_tree(self, component: Component) -> list[int]:
        """kill -9 a component and every process below it (a worker dying with its tasks)."""
        pids = [component.pid, *descendants(component.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        component.process.wait(timeout=10)
        return pids

    def stop_all(self, grace: float = 15.0) -> list[str]:
        """SIGTERM each started process group (newest first), then SIGKILL what is left."""
        problems = []
        for component in reversed(self.started):
            if component.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(component.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for component in reversed(self.started):
            try:
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                problems.append(f"{component.name} (pid {component.pid}) ignored SIGTERM; killed")
            # Whatever is left in its group (celery children, gunicorn workers, postgres backends).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(component.pid, signal.SIGKILL)
        return problems


def system_binary(name: str) -> str:
    """A PostgreSQL server binary from the system's packages (not on PATH on Debian)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if not candidates:
        raise CheckFailed(f"{name} not found: install the postgresql package")
    return str(candidates[0])
