"""What the deployment must prove, each check driven through the REST API and the emulator's state.

A new check is a function ``(Deployment, Result) -> None`` that raises `CheckFailed` (or `Skipped`),
listed in ``CHECKS`` of ``__main__``; its DAGs go in ``tests/deploy_dags/`` (copied into the DAGs
folder) and their ids in `DAGS`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from deploy_check.deployment import Deployment
from deploy_check.processes import CheckFailed, wait_for

PIPELINE_DAG = "annotation_pipeline"
KILLED_DAG = "annotation_deploy_killed_after_create"
KILLED_SEND_DAG = "annotation_deploy_killed_after_send"
LOAD_DAG = "annotation_deploy_load"
DATASET_DAG = "annotation_dataset_to_export"
SHARED_WAITS_DAG = "annotation_deploy_shared_waits"
#: The DAGs the checks trigger; the deployment waits until the dag-processor has parsed them all.
DAGS = [PIPELINE_DAG, KILLED_DAG, KILLED_SEND_DAG, LOAD_DAG, DATASET_DAG, SHARED_WAITS_DAG]
LOAD_COUNT = 100
RUN_TIMEOUT_S = 300
#: What the trigger logs once per poll of a wait (``triggers/annotation.py``, `WaitProgress.line`).
PROGRESS = "Progress:"


@dataclass
class Result:
    """One check's outcome: ok True/False, or None while it runs and when it could not run yet (skipped)."""

    name: str
    ok: bool | None = None
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(f"   {line}", flush=True)


class Skipped(Exception):
    """A check that cannot run against this version of the package yet; the message says why."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


#: Envelope codes the platform answers before it reads the body: a create refused with one of them
#: did nothing (the hook re-signs once on 403). The signature binds only the key pair and the
#: millisecond, so two worker processes calling in the same millisecond send the same X-SIGN and the
#: emulator refuses the second as a replay; that is a proven no-op, not a duplicate.
REFUSED_AT_THE_DOOR = {401, 402, 403}


def count_requests(state: dict, path_end: str, projects: range) -> tuple[int, int]:
    """Requests to the endpoint whose path ends in `path_end`, for `projects`: how many got past
    authentication, and how many were refused before it (and so did nothing)."""
    accepted = refused = 0
    for r in state["requests"]:
        if r["endpoint"].rstrip("/").endswith(path_end) and (r["json"] or {}).get("projectId") in projects:
            if r.get("code") in REFUSED_AT_THE_DOOR:
                refused += 1
            else:
                accepted += 1
    return accepted, refused


def creates_for(d: Deployment, project_id: int) -> tuple[list[int], int]:
    """Workflow ids the emulator holds for a project, and how many create requests got past
    authentication (a same-millisecond signature refused as a replay did nothing)."""
    state = d.emulator("/_emulator/state")
    ids = sorted(int(wid) for wid, wf in state["workflows"].items() if wf["projectId"] == project_id)
    return ids, count_requests(state, "workflow/create", range(project_id, project_id + 1))[0]


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# --- Run ------------------------------------------------------------------------------------------


def _objects_of(state: dict, project_id: int) -> tuple[list[str], list[int]]:
    """The emulator's task ids and workflow ids of one project."""
    tasks = sorted(tid for tid, t in state["tasks"].items() if t["projectId"] == project_id)
    workflows = sorted(int(wid) for wid, wf in state["workflows"].items() if wf["projectId"] == project_id)
    return tasks, workflows


def _trigger_pipeline(d: Deployment, tag: str, on_poll=None) -> tuple[str, dict, float]:
    """Trigger the pipeline with names unique to this check; wait for the run's end."""
    conf = {
        "folder_name": f"Deploy check {tag}",
        "project_name": f"Deploy check {tag}",
        "labelers": ["dana", "erin"],
        "data_ids": [f"{tag}-frame-{i}" for i in range(1, 4)],
        "export_folder": str(d.run_dir / "exports"),
    }
    d.api.unpause(PIPELINE_DAG)
    run_id = d.api.trigger(PIPELINE_DAG, conf)
    started = time.monotonic()
    dag_run = d.api.wait_run(PIPELINE_DAG, run_id, RUN_TIMEOUT_S, on_poll=on_poll)
    return run_id, {**dag_run, "conf": conf}, time.monotonic() - started


def run(d: Deployment, result: Result) -> None:
    """The README's full pipeline DAG, triggered with conf, runs green; its XComs hold the ids the
    emulator created, and the export holds one line per labeled task."""
    run_id, dag_run, seconds = _trigger_pipeline(d, "run")
    result.say(f"{PIPELINE_DAG} run {run_id}: {dag_run['state']} in {seconds:.1f} s (trigger to end)")
    states = {ti["task_id"]: ti["state"] for ti in d.api.task_instances(PIPELINE_DAG, run_id)}
    expect(dag_run["state"] == "success", f"run ended {dag_run['state']}; task states {states}")
    expect(set(states.values()) == {"success"}, f"task states {states}")
    state = d.emulator("/_emulator/state")
    folder_id = d.api.xcom(PIPELINE_DAG, run_id, "create_folder")
    project_id = d.api.xcom(PIPELINE_DAG, run_id, "create_project")
    folders = [int(f) for f, v in state["folders"].items() if v["name"] == dag_run["conf"]["folder_name"]]
    projects = [int(p) for p, v in state["projects"].items() if v["name"] == dag_run["conf"]["project_name"]]
    expect(folders == [folder_id], f"XCom folder {folder_id!r}, emulator folders of that name {folders}")
    expect(
        projects == [project_id], f"XCom project {project_id!r}, emulator projects of that name {projects}"
    )
    expect(state["projects"][str(project_id)]["folderId"] == folder_id, "the project is not in the folder")
    task_ids, workflows = _objects_of(state, project_id)
    submitted = d.api.xcom(PIPELINE_DAG, run_id, "request_annotation")
    expect(
        sorted(submitted["task_ids"]) == task_ids,
        f"XCom task ids {submitted['task_ids']} vs emulator {task_ids}",
    )
    waited = d.api.xcom(PIPELINE_DAG, run_id, "wait_for_annotation")
    expect(sorted(waited["complete"]) == task_ids, f"sensor XCom {waited} vs emulator tasks {task_ids}")
    exported = d.api.xcom(PIPELINE_DAG, run_id, "export")
    path = exported["uri"].removeprefix("file://")
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    expect(exported["count"] == len(task_ids) == len(lines), f"export {exported} holds {len(lines)} lines")
    result.say(
        f"XComs: folder {folder_id}, project {project_id} (workflows {workflows}), tasks {task_ids}, "
        f"export {exported['count']} lines at {exported['uri']}; all match the emulator's state"
    )
    workers = [
        p.get("workers")
        for wid in workflows
        for p in state["workflows"][str(wid)]["pools"]
        if p.get("name") == "Labeling pool"
    ]
    expect(workers == [["dana", "erin"]], f"the conf's labelers did not reach the platform: {workers}")
    log = d.api.log_text(PIPELINE_DAG, run_id, "create_project", 1)
    call_line = next((line for line in log.splitlines() if "requestId=" in line), "")
    expect(
        bool(call_line), "the task log lacks the hook's per-call line (method, endpoint, requestId, duration)"
    )
    result.say(f"task log via REST API has the call line: {call_line.strip()[:160]}")


# --- Durable retries ------------------------------------------------------------------------------


def durable_retry(d: Deployment, result: Result, target: str, project_id: int) -> None:
    """kill -9 right after the platform answered; the scheduler retries; one workflow, the kept id."""
    d.api.unpause(KILLED_DAG)
    run_id = d.api.trigger(KILLED_DAG, {"project_id": project_id, "marker_dir": str(d.markers)})
    marker = d.markers / f"{run_id}.json"
    wait_for(f"{KILLED_DAG} to reach the platform", marker.exists, 180, d.processes.get("scheduler").log)
    time.sleep(0.2)  # the marker is written in one call; let it land
    announced = json.loads(marker.read_text())
    ids, sent = creates_for(d, project_id)
    expect(
        ids == [announced["workflowId"]] and sent == 1, f"before the kill: workflows {ids}, {sent} creates"
    )
    killed_at = time.monotonic()
    if target == "task":
        os.kill(announced["pid"], signal.SIGKILL)
        result.say(
            f"[task process] kill -9 {announced['pid']} after workflow {announced['workflowId']} was created"
        )
    else:
        worker = next(c for c in reversed(d.processes.started) if c.name.startswith("celery-worker"))
        pids = d.processes.kill_tree(worker)
        result.say(
            f"[whole worker] kill -9 of {worker.name} and its {len(pids) - 1} children (task pid "
            f"{announced['pid']}) after workflow {announced['workflowId']} was created; starting a new worker"
        )
        d.start_worker()
        d.wait_worker()
    dag_run = d.api.wait_run(KILLED_DAG, run_id, RUN_TIMEOUT_S)
    recovered = time.monotonic() - killed_at
    ti = d.api.task_instance(KILLED_DAG, run_id, "create_workflow")
    expect(
        dag_run["state"] == "success",
        f"run ended {dag_run['state']} (task {ti['state']}, try {ti['try_number']})",
    )
    expect(ti["try_number"] >= 2, f"the task succeeded on try {ti['try_number']}: nothing was retried")
    workflow_id = d.api.xcom(KILLED_DAG, run_id, "create_workflow")
    ids, sent = creates_for(d, project_id)
    result.say(
        f"[{target}] retried by the scheduler: success on try {ti['try_number']}, "
        f"{recovered:.1f} s after the kill; "
        f"XCom {workflow_id}; emulator: workflows {ids}, {sent} create request(s)"
    )
    expect(workflow_id == announced["workflowId"], f"the retry returned {workflow_id}, not the kept id")
    expect(ids == [workflow_id] and sent == 1, f"duplicates: workflows {ids}, {sent} create requests")
    log = d.api.log_text(KILLED_DAG, run_id, "create_workflow", ti["try_number"])
    expect("already created by an earlier try" in log, "the retry's log does not say it returned the kept id")


def durable_send_retry(d: Deployment, result: Result, project_id: int) -> None:
    """kill -9 right after the platform answered a task send; the retry reconnects to the kept
    batch: one batch, one send request."""
    d.api.unpause(KILLED_SEND_DAG)
    run_id = d.api.trigger(KILLED_SEND_DAG, {"project_id": project_id, "marker_dir": str(d.markers)})
    marker = d.markers / f"{run_id}.json"
    wait_for(f"{KILLED_SEND_DAG} to reach the platform", marker.exists, 180, d.processes.get("scheduler").log)
    time.sleep(0.2)  # the marker is written in one call; let it land
    announced = json.loads(marker.read_text())

    def batches_and_sends() -> tuple[list[str], int]:
        state = d.emulator("/_emulator/state")
        batches = sorted(b for b, v in state["batches"].items() if v.get("projectId") == project_id)
        sends = count_requests(state, "/task/send", range(project_id, project_id + 1))[0]
        return batches, sends

    before = batches_and_sends()
    expect(before == ([announced["batchId"]], 1), f"before the kill: batches and sends {before}")
    killed_at = time.monotonic()
    os.kill(announced["pid"], signal.SIGKILL)
    result.say(f"[task send] kill -9 {announced['pid']} after batch {announced['batchId']} was started")
    dag_run = d.api.wait_run(KILLED_SEND_DAG, run_id, RUN_TIMEOUT_S)
    ti = d.api.task_instance(KILLED_SEND_DAG, run_id, "send_tasks")
    expect(dag_run["state"] == "success", f"run ended {dag_run['state']} (task {ti['state']})")
    expect(ti["try_number"] >= 2, f"the task succeeded on try {ti['try_number']}: nothing was retried")
    batch_id = d.api.xcom(KILLED_SEND_DAG, run_id, "send_tasks")
    after = batches_and_sends()
    result.say(
        f"[task send] retried by the scheduler: success on try {ti['try_number']}, "
        f"{time.monotonic() - killed_at:.1f} s after the kill; XCom {batch_id}; emulator: batches "
        f"{after[0]}, {after[1]} send request(s)"
    )
    expect(str(batch_id) == announced["batchId"], f"the retry returned {batch_id}, not the kept batch")
    expect(after == ([announced["batchId"]], 1), f"a second batch or send: {after}")


def durable_retries(d: Deployment, result: Result) -> None:
    durable_retry(d, result, "task", 5001)
    durable_retry(d, result, "worker", 5002)
    durable_send_retry(d, result, 6001)


# --- Load -----------------------------------------------------------------------------------------


def load(d: Deployment, result: Result) -> None:
    """100 project setups in one run, dynamic task mapping across the Celery worker; no duplicates."""
    first = 20000
    d.api.unpause(LOAD_DAG)
    started = time.monotonic()
    run_id = d.api.trigger(LOAD_DAG, {"first_project_id": first, "count": LOAD_COUNT})
    dag_run = d.api.wait_run(LOAD_DAG, run_id, 900)
    wall = time.monotonic() - started
    tis = [ti for ti in d.api.task_instances(LOAD_DAG, run_id) if ti["task_id"] == "create_workflow"]
    states: dict[str, int] = {}
    for ti in tis:
        states[ti["state"]] = states.get(ti["state"], 0) + 1
    expect(dag_run["state"] == "success", f"load run ended {dag_run['state']}; mapped task states {states}")
    expect(len(tis) == LOAD_COUNT and states == {"success": LOAD_COUNT}, f"mapped task states {states}")
    finish, running, waiting = [], [], []
    for ti in tis:
        if ti.get("start_date") and ti.get("end_date"):
            running.append((parse_time(ti["end_date"]) - parse_time(ti["start_date"])).total_seconds())
        if ti.get("queued_when") and ti.get("start_date"):
            waiting.append((parse_time(ti["start_date"]) - parse_time(ti["queued_when"])).total_seconds())
        scheduled, ended = parse_time(ti.get("scheduled_when")), parse_time(ti.get("end_date"))
        if scheduled and ended:
            finish.append((ended - scheduled).total_seconds())
    expect(len(finish) == LOAD_COUNT, "task instances without scheduled_when/end_date")
    run_span = (parse_time(dag_run["end_date"]) - parse_time(dag_run["start_date"])).total_seconds()
    hosts = sorted({ti.get("hostname") or "?" for ti in tis})
    state = d.emulator("/_emulator/state")
    per_project: dict[int, int] = {}
    for wf in state["workflows"].values():
        if first <= wf["projectId"] < first + LOAD_COUNT:
            per_project[wf["projectId"]] = per_project.get(wf["projectId"], 0) + 1
    sent, refused = count_requests(state, "workflow/create", range(first, first + LOAD_COUNT))
    duplicates = sum(n - 1 for n in per_project.values())
    xcoms = {d.api.xcom(LOAD_DAG, run_id, "create_workflow", ti["map_index"]) for ti in tis}
    emulator_ids = {
        int(wid) for wid, wf in state["workflows"].items() if first <= wf["projectId"] < first + LOAD_COUNT
    }
    finish.sort()
    p95 = finish[int(0.95 * (len(finish) - 1))]
    result.say(
        f"{LOAD_COUNT} mapped CreateWorkflowOperator tasks on {len(hosts)} Celery worker(s) "
        f"(concurrency {d.env['AIRFLOW__CELERY__WORKER_CONCURRENCY']}): "
        f"wall time {wall:.1f} s trigger to end, "
        f"run start to end {run_span:.1f} s ({LOAD_COUNT / run_span:.1f} tasks/s)"
    )
    result.say(
        f"scheduled-to-finish per task: min {finish[0]:.1f} s, median {statistics.median(finish):.1f} s, "
        f"p95 {p95:.1f} s, max {finish[-1]:.1f} s"
    )
    result.say(
        f"of which running (start to end): median {statistics.median(running):.1f} s, "
        f"max {max(running):.1f} s; "
        f"queued to start: median {statistics.median(waiting):.1f} s, max {max(waiting):.1f} s"
    )
    result.say(
        f"emulator: {len(per_project)} projects with a workflow, {duplicates} duplicates, "
        f"{sent} create requests accepted"
        f"{f' (+{refused} refused as a same-millisecond replay, re-signed)' if refused else ''}; "
        f"XComs match the emulator's ids: {xcoms == emulator_ids}"
    )
    result.figures = {
        "wall_s": wall,
        "run_span_s": run_span,
        "finish_min_s": finish[0],
        "finish_median_s": statistics.median(finish),
        "finish_p95_s": p95,
        "finish_max_s": finish[-1],
        "running_median_s": statistics.median(running),
        "queued_median_s": statistics.median(waiting),
    }
    expect(len(per_project) == LOAD_COUNT and duplicates == 0 and sent == LOAD_COUNT, "duplicates or missing")
    expect(xcoms == emulator_ids, "the mapped XComs are not the emulator's workflow ids")


# --- No secret in logs ----------------------------------------------------------------------------


def no_secret_in_logs(d: Deployment, result: Result) -> None:
    """Neither the connection's secret nor any request's X-SIGN in a task or component log file."""
    from airflow_provider_annotation.signing import KEY_HEADER, TIMESTAMP_HEADER, signature

    state = d.emulator("/_emulator/state")
    signatures = set()
    for record in state["requests"]:
        headers = {k.lower(): v for k, v in record["headers"].items()}
        if TIMESTAMP_HEADER.lower() in headers:
            signatures.add(
                signature(
                    headers[TIMESTAMP_HEADER.lower()], d.secret_key, headers.get(KEY_HEADER.lower(), "")
                )
            )
    needles = {d.secret_key: "the secret key", **{s: "an X-SIGN value" for s in signatures}}
    header_re = re.compile(r"x-sign['\"]?\s*[:=]", re.IGNORECASE)
    files = [p for p in (d.airflow_home / "logs").rglob("*") if p.is_file()]
    task_logs = [p for p in files if "dag_id=" in str(p)]
    files += sorted((d.run_dir / "logs").glob("*.log"))
    leaks = []
    call_lines = 0
    for path in files:
        text = path.read_text(errors="replace")
        call_lines += text.count("requestId=")
        leaks += [f"{path}: {what}" for needle, what in needles.items() if needle in text]
        if header_re.search(text):
            leaks.append(f"{path}: an X-SIGN header")
    result.say(
        f"scanned {len(files)} log files ({len(task_logs)} task logs, {call_lines} logged platform calls) "
        "for the "
        f"secret and {len(signatures)} X-SIGN values recomputed from the emulator's requests"
    )
    expect(len(task_logs) > 0 and call_lines > 0, "no task logs with platform calls: the scan proves nothing")
    expect(not leaks, "secrets in logs:\n  " + "\n  ".join(leaks[:20]))
    result.say("no secret, no X-SIGN in any of them")


# --- Deferral -------------------------------------------------------------------------------------


def datasets(d: Deployment, result: Result) -> None:
    """The dataset example DAG runs green: import (its wait deferred: the deployment's emulator keeps
    a dataset BUILDING for two status reads) -> mapping file -> project -> annotation request from
    the file -> wait -> export; every id in the XComs is the emulator's."""
    conf = {
        "dataset_name": "Deploy check dataset",
        "project_name": "Deploy check dataset",
        "export_folder": str(d.run_dir / "exports"),
    }
    d.api.unpause(DATASET_DAG)
    run_id = d.api.trigger(DATASET_DAG, conf)
    started = time.monotonic()
    dag_run = d.api.wait_run(DATASET_DAG, run_id, RUN_TIMEOUT_S)
    result.say(f"{DATASET_DAG} run {run_id}: {dag_run['state']} in {time.monotonic() - started:.1f} s")
    tis = d.api.task_instances(DATASET_DAG, run_id)
    states = {ti["task_id"]: ti["state"] for ti in tis}
    for ti in tis:
        if ti["state"] == "failed":  # what went wrong, in the report
            log = d.api.log_text(DATASET_DAG, run_id, ti["task_id"], max(int(ti.get("try_number") or 1), 1))
            result.say(f"{ti['task_id']} log, last lines: " + " | ".join(log.strip().splitlines()[-12:]))
    expect(dag_run["state"] == "success" and set(states.values()) == {"success"}, f"task states {states}")
    state = d.emulator("/_emulator/state")
    # The REST API's deserialized XCom may read the string "4200" as a number: compare as text.
    dataset_id = str(d.api.xcom(DATASET_DAG, run_id, "import_dataset"))
    named = [i for i, v in state["datasets"].items() if v.get("name") == conf["dataset_name"]]
    expect(named == [dataset_id], f"XCom dataset {dataset_id!r}, emulator datasets of that name {named}")
    expect(state["datasets"][dataset_id]["status"] == 2, f"dataset {state['datasets'][dataset_id]}")
    project_id = d.api.xcom(DATASET_DAG, run_id, "create_project")
    task_ids, _ = _objects_of(state, project_id)
    scenes = state["datasets"][dataset_id]["scenes"]
    submitted = d.api.xcom(DATASET_DAG, run_id, "request_annotation")
    expect(
        sorted(submitted["task_ids"]) == task_ids and len(task_ids) == scenes,
        f"XCom task ids {submitted['task_ids']} vs emulator {task_ids} for {scenes} scenes",
    )
    exported = d.api.xcom(DATASET_DAG, run_id, "export")
    expect(exported["count"] == scenes, f"export {exported} for {scenes} scenes")
    result.say(
        f"dataset {dataset_id} ({scenes} scenes) -> project {project_id}, tasks {task_ids} -> export of "
        f"{exported['count']} lines at {exported['uri']}"
    )


def deferral(d: Deployment, result: Result) -> None:
    """The pipeline's sensor really defers: its task instance is seen `deferred` through the REST
    API while no task of the run holds a worker slot, the triggerer's log shows the trigger, and the
    run then ends green. Its tasks complete one poll apart (`_pace`), so the sensor's log holds
    several progress lines; the UI check shows them (``d.deferred_sensor``)."""
    seen: dict[str, set[str]] = {"sensor": set(), "running_while_deferred": set(), "trigger": set()}

    def watch() -> None:
        _pace(d, conf["project_name"], paced)
        tis = {ti["task_id"]: ti for ti in d.api.task_instances(PIPELINE_DAG, run_id_box[0])}
        sensor = tis.get("wait_for_annotation")
        if not sensor:
            return
        seen["sensor"].add(str(sensor["state"]))  # None before it is scheduled
        if sensor["state"] == "deferred":
            running = {t for t, ti in tis.items() if ti["state"] == "running"}
            seen["running_while_deferred"].update(running)
            trigger, job = sensor.get("trigger") or {}, sensor.get("triggerer_job") or {}
            if trigger.get("classpath") and job.get("id"):
                seen["trigger"].add(f"{trigger['classpath']} on triggerer job {job['id']}")

    run_id_box = [""]
    paced: dict[str, str] = {}
    d.api.unpause(PIPELINE_DAG)
    conf_tag = "deferral"
    conf = {
        "folder_name": f"Deploy check {conf_tag}",
        "project_name": f"Deploy check {conf_tag}",
        "data_ids": [f"{conf_tag}-frame-{i}" for i in range(1, 3)],
        "export_folder": str(d.run_dir / "exports"),
    }
    run_id_box[0] = d.api.trigger(PIPELINE_DAG, conf)
    started = time.monotonic()
    dag_run = d.api.wait_run(PIPELINE_DAG, run_id_box[0], RUN_TIMEOUT_S, on_poll=watch)
    result.say(f"{PIPELINE_DAG} run: {dag_run['state']} in {time.monotonic() - started:.1f} s")
    result.say(f"sensor states seen: {sorted(seen['sensor'])}")
    expect(dag_run["state"] == "success", f"run ended {dag_run['state']}")
    expect("deferred" in seen["sensor"], f"the sensor was never seen deferred: {sorted(seen['sensor'])}")
    expect(
        not seen["running_while_deferred"],
        f"tasks running on a worker while the sensor was deferred: {seen['running_while_deferred']}",
    )
    expect(
        any("AnnotationTaskTrigger" in t for t in seen["trigger"]),
        f"no triggerer job was seen holding the sensor's trigger: {sorted(seen['trigger'])}",
    )
    result.say(f"while deferred: {sorted(seen['trigger'])}; no task of the run held a worker slot")
    ti = d.api.task_instance(PIPELINE_DAG, run_id_box[0], "wait_for_annotation")
    log = d.api.log_text(PIPELINE_DAG, run_id_box[0], "wait_for_annotation", ti["try_number"])
    progress = [line.strip() for line in log.splitlines() if PROGRESS in line]
    result.say(
        f"task {paced.get('held', '-')} held at Working, completed after the second poll "
        f"({paced.get('released', 'never')}); the sensor's log (REST API) has {len(progress)} "
        f"progress lines, the last: {progress[-1][:200] if progress else '-'}"
    )
    expect(len(progress) >= 2, f"the sensor's log has {len(progress)} lines with {PROGRESS!r}, expected >= 2")
    # For the UI check: the finished sensor whose log it opens.
    d.deferred_sensor = (PIPELINE_DAG, run_id_box[0], "wait_for_annotation", ti["try_number"])
    shared_waits(d, result)


#: Sensors of `SHARED_WAITS_DAG` deferred at once on one project, tasks each, and their poke interval
#: (the DAG's `WAITS` and `POKE_S`).
SHARED_WAITS, SHARED_TASKS, SHARED_POKE_S = 100, 2, 10
#: Poke intervals over which the requests are counted once every sensor is deferred.
SHARED_INTERVALS = 4
LISTING_PAGE = 100


def _platform(d: Deployment, path: str, body: dict) -> dict:
    """A signed platform call straight to the emulator, as the provider signs it."""
    import httpx

    from airflow_provider_annotation.signing import signed_headers
    from deploy_check.deployment import ACCESS_KEY

    answer = httpx.post(
        d.emulator_url + path, json=body, headers=signed_headers(ACCESS_KEY, d.secret_key), timeout=30
    ).json()
    expect(answer.get("success") is True, f"{path} answered {answer}")
    return answer["data"]


def shared_waits(d: Deployment, result: Result) -> None:
    """100 deferred sensors on one project, in the real triggerer: their tasks held at Working, the
    requests to the project counted at the emulator per poke interval. The triggerer's shared poll
    reads the project's listing once per interval for all of them (2 pages of 100 for 200 tasks),
    where 100 separate polls would send 200 ``/task/get``. Then the tasks complete and every sensor
    ends green."""
    operators = [{"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}]
    project_id = _platform(
        d,
        "/project/create",
        {
            "name": "Deploy check shared waits",
            "dataType": 2,
            "deadline": "2030-06-01",
            "operators": operators,
        },
    )["projectId"]
    data_ids = [f"shared-{i}" for i in range(SHARED_WAITS * SHARED_TASKS)]
    made = _platform(d, "/annotation/request", {"projectId": project_id, "dataIds": data_ids})
    task_ids = [str(t["taskId"]) for t in made["successTaskList"]]
    expect(len(task_ids) == len(data_ids), f"{len(task_ids)} tasks made of {len(data_ids)}")
    for task_id in task_ids:  # Working: not complete however often they are read
        d.emulator(f"/_emulator/tasks/{task_id}/status", "POST", {"status": 3})
    d.api.unpause(SHARED_WAITS_DAG)
    started = time.monotonic()
    run_id = d.api.trigger(SHARED_WAITS_DAG, {"project_id": project_id, "task_ids": task_ids})

    def sensors() -> list[dict]:
        return [ti for ti in d.api.task_instances(SHARED_WAITS_DAG, run_id) if ti["task_id"] == "wait"]

    def all_on_the_triggerer() -> bool:
        tis = sensors()
        held = [ti for ti in tis if ti["state"] == "deferred" and (ti.get("triggerer_job") or {}).get("id")]
        expect(not any(ti["state"] in ("failed", "upstream_failed") for ti in tis), "a sensor failed early")
        return len(held) == SHARED_WAITS

    wait_for(f"{SHARED_WAITS} sensors deferred on the triggerer", all_on_the_triggerer, RUN_TIMEOUT_S)
    deferred_after = time.monotonic() - started
    # One interval for the triggerer to start the last triggers, then count.
    time.sleep(SHARED_POKE_S)
    window_start = time.time()
    time.sleep(SHARED_POKE_S * SHARED_INTERVALS)
    window_end = time.time()
    state = d.emulator("/_emulator/state")
    counts = [0] * SHARED_INTERVALS
    endpoints: dict[str, int] = {}
    for r in state["requests"]:
        at = r.get("received_at") or 0
        if (r.get("json") or {}).get("projectId") != project_id or not window_start <= at < window_end:
            continue
        counts[min(int((at - window_start) // SHARED_POKE_S), SHARED_INTERVALS - 1)] += 1
        endpoints[r["endpoint"]] = endpoints.get(r["endpoint"], 0) + 1
    pages = -(-len(task_ids) // LISTING_PAGE)
    result.say(
        f"{SHARED_WAITS} sensors deferred on the triggerer {deferred_after:.0f} s after the trigger; "
        f"requests to project {project_id} per {SHARED_POKE_S} s interval: {counts} ({endpoints}); "
        f"the listing has {pages} pages; {SHARED_WAITS} separate polls would send {len(task_ids)} each"
    )
    result.figures.update(
        shared_requests_per_interval_max=max(counts), shared_listing_pages=pages, shared_waits=SHARED_WAITS
    )
    expect(sum(counts) > 0, "no request to the project while 100 sensors waited: nothing polled")
    # A poll's pages can straddle an interval's edge: at most one poll's pages more over the window.
    expect(
        sum(counts) <= pages * (SHARED_INTERVALS + 1) and max(counts) <= 2 * pages,
        f"requests per interval {counts}: more than one listing of {pages} pages per interval",
    )
    for task_id in task_ids:
        d.emulator(f"/_emulator/tasks/{task_id}/status", "POST", {"status": 9})
    dag_run = d.api.wait_run(SHARED_WAITS_DAG, run_id, RUN_TIMEOUT_S * 2)
    states: dict[str, int] = {}
    for ti in sensors():
        states[ti["state"]] = states.get(ti["state"], 0) + 1
    result.say(
        f"{SHARED_WAITS_DAG} run: {dag_run['state']} in {time.monotonic() - started:.0f} s; sensors {states}"
    )
    expect(dag_run["state"] == "success" and states == {"success": SHARED_WAITS}, f"sensor states {states}")


def _pace(d: Deployment, project_name: str, paced: dict[str, str]) -> None:
    """Make the deferral run's two tasks complete one poll of the trigger apart, so its log shows
    progress (0, then 1, then 2 of 2 complete): the first completes on its own at its second status
    read (the emulator's ``--tasks-complete-after-reads`` default, 2); the second is held at Working
    (3) until the trigger's second poll has read it, then set complete for the third poll. Costs one
    poke interval (30 s) more than both completing at the second poll."""
    if "released" in paced:
        return
    state = d.emulator("/_emulator/state")
    project = next((int(p) for p, v in state["projects"].items() if v["name"] == project_name), None)
    tasks = _objects_of(state, project)[0] if project is not None else []
    if len(tasks) < 2:
        return
    held, task = tasks[-1], state["tasks"][tasks[-1]]
    if "held" not in paced:
        if task["status"] == 1:  # not yet read twice (it would be complete): hold it at Working
            d.emulator(f"/_emulator/tasks/{held}/status", "POST", {"status": 3})
            paced["held"] = held
        else:
            paced["released"] = f"not held: status {task['status']} at first sight"
    elif task.get("reads", 0) >= 2:  # the second poll saw it working: complete it for the third
        d.emulator(f"/_emulator/tasks/{held}/status", "POST", {"status": 9})
        paced["released"] = f"set to 9 after {task['reads']} reads"
