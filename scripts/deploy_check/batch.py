"""Check ``batch-kill``: 1,000 project setups in one `CreateProjectsOperator` task on Celery, the
whole worker killed with kill -9 in the middle of the first try. The scheduler's retry must finish
with 1,000 projects on the emulator and none twice: kept ids returned, the ones created but not yet
kept found by name, the rest created."""

from __future__ import annotations

import json
import time
from collections import Counter

from deploy_check.checks import RUN_TIMEOUT_S, Result, expect
from deploy_check.deployment import Deployment
from deploy_check.processes import wait_for

BATCH_DAG = "annotation_deploy_batch"
DAGS = [BATCH_DAG]
COUNT = 1000
PREFIX = "deploy-batch"


def _creates(state: dict) -> tuple[Counter, Counter]:
    """Create Project requests per name of this check: accepted ones (past authentication), and
    the successful ones."""
    sent: Counter = Counter()
    made: Counter = Counter()
    for r in state["requests"]:
        name = (r.get("json") or {}).get("name", "")
        if not (r["endpoint"].rstrip("/").endswith("/project/create") and name.startswith(PREFIX)):
            continue
        if r.get("code") not in (401, 402, 403):  # refused at the door: did nothing (see checks.py)
            sent[name] += 1
        if r.get("code") == 200:
            made[name] += 1
    return sent, made


def batch_kill(d: Deployment, result: Result) -> None:
    d.api.unpause(BATCH_DAG)
    started = time.monotonic()
    run_id = d.api.trigger(BATCH_DAG, {"prefix": PREFIX, "marker_dir": str(d.markers)})
    marker = d.markers / f"{run_id}.json"
    wait_for(f"{BATCH_DAG} to be in the middle", marker.exists, 300, d.processes.get("scheduler").log)
    time.sleep(0.2)  # the marker is written in one call; let it land
    announced = json.loads(marker.read_text())
    worker = next(c for c in reversed(d.processes.started) if c.name.startswith("celery-worker"))
    pids = d.processes.kill_tree(worker)
    killed_at = time.monotonic()
    before = d.emulator("/_emulator/state")
    made_before = sum(1 for p in before["projects"].values() if p["name"].startswith(PREFIX))
    result.say(
        f"kill -9 of {worker.name} and its {len(pids) - 1} children (task pid {announced['pid']}) after "
        f"{announced['sent']} creates were sent; the emulator then held {made_before} of {COUNT} projects"
    )
    expect(0 < made_before < COUNT, f"the kill did not land in the middle: {made_before} projects made")
    d.start_worker()
    d.wait_worker()
    dag_run = d.api.wait_run(BATCH_DAG, run_id, RUN_TIMEOUT_S * 2)
    ti = d.api.task_instance(BATCH_DAG, run_id, "set_up_projects")
    ended = f"run ended {dag_run['state']} (task {ti['state']}, try {ti['try_number']})"
    expect(dag_run["state"] == "success", ended)
    expect(ti["try_number"] >= 2, f"the task succeeded on try {ti['try_number']}: nothing was retried")
    results = d.api.xcom(BATCH_DAG, run_id, "set_up_projects")
    outcomes = Counter(r["outcome"] for r in results)
    state = d.emulator("/_emulator/state")
    projects = Counter(p["name"] for p in state["projects"].values() if p["name"].startswith(PREFIX))
    sent, made = _creates(state)
    twice = sorted(name for name, n in sent.items() if n > 1)
    duplicates = sum(n - 1 for n in projects.values()) + sum(n - 1 for n in made.values())
    xcom_ids = {r["project_id"] for r in results}
    emulator_ids = {int(pid) for pid, p in state["projects"].items() if p["name"].startswith(PREFIX)}
    result.say(
        f"retried by the scheduler: success on try {ti['try_number']}, {time.monotonic() - killed_at:.1f} s "
        f"after the kill ({time.monotonic() - started:.1f} s trigger to end); the retry's XCom: "
        + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
    )
    result.say(
        f"emulator: {len(projects)} projects, {duplicates} duplicates, {sum(sent.values())} create requests "
        f"accepted ({len(twice)} names sent twice); XCom ids match the emulator's: {xcom_ids == emulator_ids}"
    )
    log = d.api.log_text(BATCH_DAG, run_id, "set_up_projects", ti["try_number"])
    kept_lines = log.count("kept, not sent again")
    adopted_lines = log.count("an earlier try may have created it; adopting project")
    result.say(f"the retry's log: {kept_lines} items kept, {adopted_lines} found by name and adopted")
    result.figures = {
        "made_before_kill": made_before,
        "kept": outcomes["kept"],
        "adopted": outcomes["adopted"],
        "created": outcomes["created"],
        "recovered_s": time.monotonic() - killed_at,
    }
    expect(len(results) == COUNT and outcomes["failed"] == 0, f"the retry's outcomes {dict(outcomes)}")
    expect(len(projects) == COUNT and duplicates == 0, f"{len(projects)} projects, {duplicates} duplicates")
    expect(not twice, f"names sent twice: {twice[:10]}")
    expect(xcom_ids == emulator_ids, "the XCom's project ids are not the emulator's")
    expect(outcomes["kept"] > 0, "nothing was kept by the first try: the retry proved nothing")
