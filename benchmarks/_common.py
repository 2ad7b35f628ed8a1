"""Helpers shared by the benchmark and the soak: machine notes, statistics, Markdown tables,
connections in the environment. Light on imports so `bench`'s parse-cost children stay clean."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

#: Key pair the benchmark and soak give their emulators; not a secret of anything real.
ACCESS_KEY = "bench-ak"
SECRET_KEY = "bench-sk"


def package_version(name: str) -> str:
    """An installed distribution's version, or "-" when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (Linux); `platform.processor()` is often empty there."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """Cores this process may run on (affinity), which is what the figures depend on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_notes() -> list[tuple[str, str]]:
    """What a reader needs to compare these figures with their own."""
    return [
        ("CPU", f"{cpu_model()}, {usable_cores()} usable cores ({os.cpu_count()} online)"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("apache-airflow", package_version("apache-airflow")),
        ("apache-airflow-providers-http", package_version("apache-airflow-providers-http")),
        ("airflow-provider-annotation", package_version("airflow-provider-annotation")),
        ("requests", package_version("requests")),
    ]


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: an observed value, no interpolation."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table, padded so it also reads well in a terminal (and pastes into README.md)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def print_section(title: str, body: str) -> None:
    print(f"\n### {title}\n\n{body}", flush=True)


def set_connection(conn_id: str, conn_type: str, **fields: Any) -> None:
    """Define an Airflow connection the way users do in deployments: `AIRFLOW_CONN_<ID>` JSON."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": conn_type, **fields})


def quiet_airflow_logs(level: str) -> None:
    """Send the SDK's structured logs to /dev/null at `level`: lines are still filtered and formatted
    (a task pays that), the terminal stays free for the tables."""
    from airflow.sdk.log import configure_logging

    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    configure_logging(log_level=level, output=sink, colored_console_log=False)


def command_line() -> str:
    """How this program was started, for the report under the table."""
    module = sys.modules["__main__"].__spec__
    program = f"python -m {module.name}" if module else f"python {sys.argv[0]}"
    return " ".join([program, *sys.argv[1:]])
