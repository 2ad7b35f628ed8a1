"""Stand the deployment up, run every check, write the report, stop everything: ``python -m deploy_check``."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from deploy_check import checks
from deploy_check.checks import Result, Skipped
from deploy_check.deployment import Deployment
from deploy_check.processes import CheckFailed

CHECKS: dict[str, Callable[[Deployment, Result], None]] = {
    "run": checks.run,
    "deferral": checks.deferral,
    "durable-retries": checks.durable_retries,
    "ui": lambda d, r: __import__("deploy_check.ui", fromlist=["ui"]).connection_form(d, r),
    "load": checks.load,
    "batch-kill": lambda d, r: __import__("deploy_check.batch", fromlist=["batch"]).batch_kill(d, r),
    "datasets": checks.datasets,
    "no-secret-in-logs": checks.no_secret_in_logs,  # last: it scans the logs of all the others
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy-check", description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="the repository (DAGs, test DAGs)")
    parser.add_argument("--report-dir", type=Path, required=True)
    parser.add_argument("--only", nargs="*", choices=list(CHECKS), help="run only these checks")
    parser.add_argument("--pid-file", type=Path, help="also record started PIDs here (for the shell's trap)")
    parser.add_argument("--install-timings", default="", help="the shell's install stages, for the report")
    parser.add_argument(
        "--hold", type=float, default=0, help="seconds to keep the deployment up after the checks"
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's temporary folder")
    return parser.parse_args()


def installed_from_wheel(d: Deployment) -> str:
    """Where the components import the provider from: must be the virtualenv, not the repository."""
    import subprocess

    where = subprocess.run(
        [sys.executable, "-c", "import airflow_provider_annotation as p; print(p.__file__)"],
        env=d.env,
        cwd=d.run_dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    import sysconfig

    if not where.startswith(sysconfig.get_paths()["purelib"]):
        raise CheckFailed(f"the provider is imported from {where}, not from the installed wheel")
    return where


def main() -> int:
    args = parse_args()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report_dir = args.report_dir / stamp
    report_dir.mkdir(parents=True)
    run_dir = Path(tempfile.mkdtemp(prefix="deploy-check-"))
    d = Deployment(root=args.root.resolve(), run_dir=run_dir)
    d.report_dir = report_dir  # type: ignore[attr-defined]
    if args.pid_file:
        d.processes.pid_file = args.pid_file
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below on SIGTERM too
    results: list[Result] = []
    setup_error = None
    started = time.monotonic()
    try:
        print(">> starting the deployment on loopback", flush=True)
        d.prepare_dags()
        for start in (d.start_postgres, d.start_redis, d.start_emulator):
            component = start()
            d.timed(f"{component.name} healthy", component.ready_s or 0)
        print(f"   provider imported from {installed_from_wheel(d)}", flush=True)
        d.migrate()
        d.start_airflow()
        d.wait_dags(checks.DAGS + ["annotation_deploy_batch"])
        d.create_connection()
        d.timed("deployment up", time.monotonic() - started)
        for name, check in CHECKS.items():
            if args.only and name not in args.only:
                continue
            print(f">> check: {name}", flush=True)
            result = Result(name)
            results.append(result)
            t0 = time.monotonic()
            try:
                check(d, result)
                result.ok = True
            except Skipped as skip:
                result.say(f"SKIPPED: {skip}")
            except Exception as exc:  # noqa: BLE001 - one failed check must not hide the others
                result.ok = False
                detail = str(exc) if isinstance(exc, CheckFailed) else traceback.format_exc()
                result.say(f"FAILED: {detail}")
            result.seconds = time.monotonic() - t0
            print(f"   -> {name}: {verdict(result)} in {result.seconds:.1f} s", flush=True)
        if args.hold:
            print(
                f">> holding for {args.hold:.0f} s: {d.api_url} (admin / {d.admin_password}); "
                f"emulator {d.emulator_url}; AIRFLOW_HOME {d.airflow_home}",
                flush=True,
            )
            time.sleep(args.hold)
    except Exception as exc:  # noqa: BLE001 - the deployment did not come up: report it, then clean up
        setup_error = str(exc) if isinstance(exc, CheckFailed) else traceback.format_exc()
        print(f"!! deployment failed: {setup_error}", flush=True)
    finally:
        print(">> stopping everything this run started", flush=True)
        stop_problems = d.processes.stop_all()
        for problem in stop_problems:
            print(f"   {problem}", flush=True)
        write_report(d, report_dir, results, setup_error, time.monotonic() - started, args.install_timings)
        if args.keep:
            print(f"   kept {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    failed = setup_error is not None or any(r.ok is False for r in results)
    print(f">> {'FAILED' if failed else 'PASSED'}; report in {report_dir}", flush=True)
    return 1 if failed else 0


def verdict(result: Result) -> str:
    return {True: "passed", False: "FAILED", None: "skipped"}[result.ok]


def write_report(
    d: Deployment,
    report_dir: Path,
    results: list[Result],
    setup_error: str | None,
    total: float,
    installs: str,
) -> None:
    lines = [f"deploy-check report, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", ""]
    if installs:
        lines += [f"Installs: {installs}", ""]
    lines.append("Components (separate processes on 127.0.0.1, PID, seconds to healthy):")
    for c in d.processes.started:
        ready = f"{c.ready_s:.1f} s" if c.ready_s is not None else "-"
        lines.append(f"  {c.name:16} pid {c.pid:<8} {ready}")
    lines += ["", "Stage timings:"] + [f"  {k}: {v:.1f} s" for k, v in d.timings.items()]
    if setup_error:
        lines += ["", "DEPLOYMENT FAILED:", setup_error]
    for r in results:
        lines += ["", f"[{verdict(r)}] {r.name} ({r.seconds:.1f} s)"] + [f"  {line}" for line in r.lines]
    lines += ["", f"total {total:.1f} s"]
    (report_dir / "report.txt").write_text("\n".join(lines) + "\n")
    logs = report_dir / "logs"
    logs.mkdir(exist_ok=True)
    for log in (d.run_dir / "logs").glob("*.log"):
        shutil.copy(log, logs / log.name)
    os.sync()


if __name__ == "__main__":
    sys.exit(main())
