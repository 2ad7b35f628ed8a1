"""Operators for the rest of a project setup: folder, project, data sent for labeling, stats.

The creates follow one protocol (`operators._create`): checked input, dry run, a kept id per task
instance, fail closed on a lost answer. Importable from
`airflow_provider_annotation.operators.annotation` too. Imports no HTTP library at module level.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from airflow_provider_annotation.coercion import _parse_literal, to_name_list
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationConflictError,
    AnnotationInputError,
    AnnotationMayHaveTakenEffectError,
    AnnotationValidationError,
)
from airflow_provider_annotation.links import AnnotationPlatformLink, push_no_link, push_platform_url
from airflow_provider_annotation.mapping import MappingChunks, is_mapping_uri
from airflow_provider_annotation.operators._create import (
    NOT_RETRYING_REFUSAL,
    SHORTHAND,
    AnnotationCreateOperator,
    given_fields,
    input_failure,
    vanished_fields,
    workflow_pools,
)
from airflow_provider_annotation.operators._state import DIGEST_KEY, TaskState, body_digest
from airflow_provider_annotation.operators.base import AnnotationHookMixin
from airflow_provider_annotation.paging import project_key
from airflow_provider_annotation.project import (
    SetupInputError,
    annotation_request_body,
    folder_body,
    project_body,
    to_count,
)
from airflow_provider_annotation.status import counted
from airflow_provider_annotation.workflow import (
    Problems,
    WorkflowValidationError,
    describe_value,
    shorten,
    to_project_id,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, XComArg

    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.hooks.pacing import Pacer

IF_EXISTS = ("fail", "adopt")
ON_ITEM_ERROR = ("fail", "continue")
#: The most creates `CreateProjectsOperator` keeps in flight: beyond it, a typo (or a flood).
MAX_ACTIVE_REQUESTS = 64
ON_REJECTED = ("fail", "warn")


#: The arguments that make a Create Project body: `CreateProjectOperator`'s, and the keys of each
#: spec `CreateProjectsOperator` takes.
PROJECT_ARGUMENTS = (
    "name",
    "data_type",
    "deadline",
    "labeling_tools",
    "operators",
    "description",
    "folder_id",
    "project_manager",
    "team_names",
    "pools",
    *SHORTHAND,
)


def project_spec_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The Create Project body from `PROJECT_ARGUMENTS` as rendered (absent ones are None); raises
    `SetupInputError` with every problem, the body's arguments first in their documented order."""
    problems = Problems()
    shorthand = {name: spec.get(name) for name in SHORTHAND}
    pools = problems.collect(lambda: workflow_pools(spec.get("pools"), shorthand))
    team_names = problems.collect(lambda: to_name_list(spec.get("team_names"), "team_names"))
    tools = spec.get("labeling_tools")  # the clearer name of the platform's `operators` field
    if tools is not None and spec.get("operators") is not None:
        problems.append(
            "labeling_tools: give the labeling-tool configuration once, as labeling_tools or as operators"
        )
    try:
        body = project_body(
            name=spec.get("name"),
            data_type=spec.get("data_type"),
            deadline=spec.get("deadline"),
            operators=tools if tools is not None else spec.get("operators"),
            operators_field="operators" if tools is None else "labeling_tools",
            description=spec.get("description"),
            folder_id=spec.get("folder_id"),
            project_manager=spec.get("project_manager"),
            team_names=team_names,
            pools=pools,
        )
    except WorkflowValidationError as err:
        first = Problems()
        first.add(err)
        first.extend(problems)
        problems = first
    if problems:
        raise SetupInputError(problems)
    return body


def send_project(hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
    """Send one Create Project body; the record to keep: ``{projectId, workflowId, status}``."""
    created = hook.send_create_project(body)
    return {"projectId": created.project_id, "workflowId": created.workflow_id, "status": created.status}


def adopted_record(project: Mapping[str, Any]) -> dict[str, Any]:
    """The record of a project found by name: its id, no workflow id (the list does not say it)."""
    project_id = to_project_id(project_key(project), "projectId")
    return {"projectId": project_id, "workflowId": None, "status": project.get("status"), "adopted": True}


def taken_name(body: Mapping[str, Any]) -> str:
    """Why a taken name (5801) fails under ``if_exists="fail"``, and what to do."""
    return (
        f"A project named {body['name']!r} exists already; not retrying. Choose another name, or set "
        "if_exists='adopt' to use the existing project."
    )


def invisible_taken_name(body: Mapping[str, Any]) -> str:
    """Why a taken name with no project of that name visible fails even under ``"adopt"``."""
    return (
        f"The platform says the name {body['name']!r} is taken, but no project of data type "
        f"{body['dataType']} with that exact name is visible to this key; not retrying. It may "
        "belong to another data type or to a project this key cannot see."
    )


def _spec_list(value: object) -> list[Any]:
    """The specs as a list: given as one, or its JSON / Python repr (a rendered ``params`` value)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and value.strip():
        parsed = _parse_literal(value.strip(), "projects")
        if isinstance(parsed, (list, tuple)):
            return list(parsed)
        value = parsed
    raise WorkflowValidationError(
        f"projects: expected a list of project specs or its JSON, got {describe_value(value)}"
    )


class CreateFolderOperator(AnnotationCreateOperator):
    """Create a folder for projects; returns its ``folderId`` (an int, in XCom).

    Folder names are unique on the platform and cannot be looked up: a taken name (5836) fails
    the task without retries, and so does a lost answer, saying what to check.

    :param name: the folder's name, at most 60 bytes of UTF-8.
    :param external_id: your own id for the folder, at most 60 bytes.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the exact JSON body, send nothing, return None.
    """

    template_fields: Sequence[str] = ("name", "external_id", "annotation_conn_id")
    ui_color = "#e8f4ea"
    object_name = "folder"
    id_key = "folderId"
    endpoint_name = "Create Folder"
    state_key = "annotation_folder"

    def __init__(
        self, *, name: str | XComArg, external_id: str | XComArg | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.external_id = external_id
        self.note_given()

    def build_body(self) -> dict[str, Any]:
        return folder_body(self.name, self.external_id)

    def send(self, hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
        return {"folderId": hook.send_create_folder(body)}

    def lost_advice(self, body: dict[str, Any]) -> str:
        return (
            f"The platform has no folder lookup: look for a folder named {body['name']!r} in its web UI "
            "(quote the requestId to support, if any), then clear the task to create it if it does not exist."
        )

    def on_conflict(
        self, hook: AnnotationHook, body: dict[str, Any], err: AnnotationConflictError
    ) -> dict[str, Any]:
        raise AirflowFailException(
            f"{err}\nA folder named {body['name']!r} exists already; not retrying. The platform cannot look "
            "folders up by name: choose another name, or pass the existing folder's id (from the web UI) "
            "to the tasks that need it."
        ) from err


class CreateProjectOperator(AnnotationCreateOperator):
    """Create a project, optionally with its workflow; returns its ``projectId`` (an int).

    XCom key ``workflow_id`` holds the default workflow's id, or None when the project was adopted.
    The workflow is given as in `CreateWorkflowOperator`: `pools`, or the shorthand lists, or
    neither for the platform's default. With ``if_exists="adopt"`` an existing project of the
    same name and data type is returned (with a warning) instead of failing on 5801, and so is
    the project found by name after a lost answer.

    :param name: unique project name, at most 60 bytes of UTF-8.
    :param data_type: 2 (2D) or 3 (3D).
    :param deadline: ``YYYY-MM-DD``, or a date (a datetime only at midnight).
    :param labeling_tools: the labeling-tool configuration (the platform's ``operators`` field): a
        list of tools, its JSON, or a ``.json`` template. Each tool has ``key``, ``type`` and
        ``label``; a ``slot`` has ``slotSpecification`` (``{"type": "box2d"}``, ...), an ``input``
        has ``inputSpecification``, a ``slotChildren`` has ``slotSpecification`` and ``children``.
        Checked before sending, each problem naming its path (``labeling_tools[0].children[1].key``).
    :param operators: the same under the platform's name (give one of the two).
    :param description: at most 200 bytes.
    :param folder_id: the folder to put the project in (e.g. CreateFolderOperator's XCom).
    :param project_manager: the account managing the project.
    :param team_names: team names, as a list or as the shorthand lists are given.
    :param pools: the workflow's pools list, its JSON, or a ``.json`` template.
    :param labelers: account names for the labeling pool (shorthand).
    :param inspectors: account names for an inspection pool (shorthand; omitted when empty).
    :param spot_checkers: account names for a spot-check pool (shorthand; omitted when empty).
    :param algorithms: algorithms for a pre-labeling algorithm pool (shorthand; omitted when empty).
    :param if_exists: ``"fail"`` (default) or ``"adopt"``.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the exact JSON body, send nothing, return None.
    """

    template_fields: Sequence[str] = (*PROJECT_ARGUMENTS, "annotation_conn_id")
    template_ext: Sequence[str] = (".json",)
    template_fields_renderers = {"labeling_tools": "json", "operators": "json", "pools": "json"}
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)
    object_name = "project"
    id_key = "projectId"
    endpoint_name = "Create Project"
    state_key = "annotation_project"

    def __init__(
        self,
        *,
        name: str | XComArg,
        data_type: int | str | XComArg,
        deadline: Any,
        operators: list[dict[str, Any]] | str | XComArg | None = None,
        description: str | XComArg | None = None,
        folder_id: int | str | XComArg | None = None,
        project_manager: str | XComArg | None = None,
        team_names: list[str] | str | XComArg | None = None,
        pools: list[dict[str, Any]] | str | XComArg | None = None,
        labelers: list[str] | str | XComArg | None = None,
        inspectors: list[str] | str | XComArg | None = None,
        spot_checkers: list[str] | str | XComArg | None = None,
        algorithms: list[str] | str | XComArg | None = None,
        if_exists: str = "fail",
        labeling_tools: list[dict[str, Any]] | str | XComArg | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in IF_EXISTS:  # not templated: a wrong choice is a DAG error
            raise ValueError(f"if_exists: expected 'fail' or 'adopt', got {if_exists!r}")
        if (labeling_tools is None) == (operators is None):  # a DAG error: say it at parse time
            raise ValueError(
                "labeling_tools: give the labeling-tool configuration as labeling_tools (or as operators, "
                "the platform's name for it), " + ("not both" if operators is not None else "it is required")
            )
        self.labeling_tools = labeling_tools
        self.name = name
        self.data_type = data_type
        self.deadline = deadline
        self.operators = operators
        self.description = description
        self.folder_id = folder_id
        self.project_manager = project_manager
        self.team_names = team_names
        self.pools = pools
        self.labelers = labelers
        self.inspectors = inspectors
        self.spot_checkers = spot_checkers
        self.algorithms = algorithms
        self.if_exists = if_exists
        self.note_given()

    def build_body(self) -> dict[str, Any]:
        return project_spec_body({name: getattr(self, name) for name in PROJECT_ARGUMENTS})

    def send(self, hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
        return send_project(hook, body)

    def result(self, record: Mapping[str, Any], context: Context) -> Any:
        ti = context.get("ti")  # none in a quick check, execute(context={})
        if ti is not None:
            ti.xcom_push(key="workflow_id", value=record.get("workflowId"))
        return record["projectId"]

    def link_ids(self, record: Mapping[str, Any], body: dict[str, Any]) -> dict[str, object] | None:
        return {"project_id": record["projectId"]}

    def lost_advice(self, body: dict[str, Any]) -> str:
        return (
            f"Look for a project named {body['name']!r} on the platform (quote the requestId to support, if "
            "any), then clear the task to create it if it does not exist; with if_exists='adopt' the task "
            "looks it up by name itself."
        )

    def _adopt(self, hook: AnnotationHook, body: dict[str, Any], why: str) -> dict[str, Any] | None:
        try:
            project = hook.find_project_by_name(body["name"], data_type=body["dataType"])
        except AnnotationApiError as err:
            raise AirflowFailException(f"{why}; looking the project up by name failed: {err}") from err
        if project is None:
            return None
        record = adopted_record(project)
        self.log.warning(
            "%s; adopting the existing project %s named %r (if_exists='adopt'). Its workflow id is not "
            "known: XCom workflow_id is None.",
            why,
            record["projectId"],
            body["name"],
        )
        return record

    def recover_lost(
        self, hook: AnnotationHook, body: dict[str, Any], err: AnnotationMayHaveTakenEffectError
    ) -> dict[str, Any] | None:
        if self.if_exists != "adopt":
            return None
        return self._adopt(hook, body, f"The answer to Create Project was lost ({err})")

    def on_conflict(
        self, hook: AnnotationHook, body: dict[str, Any], err: AnnotationConflictError
    ) -> dict[str, Any]:
        if self.if_exists == "adopt":
            adopted = self._adopt(hook, body, f"A project named {body['name']!r} exists already")
            if adopted is not None:
                return adopted
            raise AirflowFailException(f"{err}\n{invisible_taken_name(body)}") from err
        raise AirflowFailException(f"{err}\n{taken_name(body)}") from err


class CreateProjectsOperator(AnnotationHookMixin, BaseOperator):
    """Set up many projects in one task, side by side, each exactly once; returns one entry per spec.

    Every spec is checked before anything is sent, and every problem of every spec is reported at
    once. Creates run `max_active_requests` at a time on one hook (one connection pool); a "try
    again later" from the platform pauses every worker (honouring ``Retry-After``), then they go
    on at a gentler rate. Each created project's id is kept in ``task_state_store`` within about a
    second, so a retry (after a crash too) sends only what was not created; a spec that may have
    been sent without its answer being kept, or whose answer was lost, is looked up by name first:
    found is adopted, not found is created. See docs/batch-setup.md.

    The return value (XCom) lists, in the specs' order, ``{"name", "project_id", "workflow_id",
    "outcome", "error"}`` with outcome ``"created"``, ``"kept"`` (by an earlier try),
    ``"adopted"`` (found by name; workflow id None) or ``"failed"`` (``error`` says why).

    :param projects: the specs: a list of objects with `CreateProjectOperator`'s arguments (``name``,
        ``data_type``, ``deadline``, ``operators``, workflow shorthand or ``pools``, ``folder_id``,
        ...), or its JSON (a ``params`` value or an XCom pull).
    :param max_active_requests: creates in flight at once (1 to 64; default 8).
    :param if_exists: ``"fail"`` (default) or ``"adopt"``, as `CreateProjectOperator`.
    :param on_item_error: ``"fail"`` (default): finish every other item, then fail the task with a
        summary; ``"continue"``: succeed and report the failed items.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: check every spec and log the bodies' count and the first one; send nothing.
    """

    template_fields: Sequence[str] = ("projects", "annotation_conn_id")
    template_fields_renderers = {"projects": "json"}
    ui_color = "#e8f4ea"
    #: Seconds between progress lines in the task log.
    progress_every_s = 5.0

    def __init__(
        self,
        *,
        projects: Sequence[Mapping[str, Any]] | str | XComArg,
        max_active_requests: int = 8,
        if_exists: str = "fail",
        on_item_error: str = "fail",
        annotation_conn_id: str = "annotation_default",
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Not templated: a wrong choice is a DAG error.
        if if_exists not in IF_EXISTS:
            raise ValueError(f"if_exists: expected 'fail' or 'adopt', got {if_exists!r}")
        if on_item_error not in ON_ITEM_ERROR:
            raise ValueError(f"on_item_error: expected 'fail' or 'continue', got {on_item_error!r}")
        if (
            not isinstance(max_active_requests, int)
            or isinstance(max_active_requests, bool)
            or not 1 <= max_active_requests <= MAX_ACTIVE_REQUESTS
        ):
            raise ValueError(
                f"max_active_requests: expected an int from 1 to {MAX_ACTIVE_REQUESTS}, "
                f"got {max_active_requests!r}"
            )
        self.projects = projects
        self.max_active_requests = max_active_requests
        self.if_exists = if_exists
        self.on_item_error = on_item_error
        self.annotation_conn_id = annotation_conn_id
        self.is_dry_run = dry_run
        self._given_fields = given_fields(self)

    def checked_specs(self) -> tuple[list[Mapping[str, Any]], list[str]]:
        """The specs and their bodies' digests; every problem of every spec at once, each named by
        the spec's index and field (``projects[3].deadline: ...``)."""
        problems = Problems()
        problems.extend(vanished_fields(self, self._given_fields))
        specs = problems.collect(lambda: _spec_list(self.projects))
        digests: list[str] = []
        names: dict[str, int] = {}
        for index, spec in enumerate(specs or ()):
            where = f"projects[{index}]"
            if not isinstance(spec, Mapping):
                problems.append(
                    f"{where}: expected an object with CreateProjectOperator's arguments, got "
                    f"{describe_value(spec)}"
                )
                continue
            for key in spec:
                if key not in PROJECT_ARGUMENTS:
                    near = difflib.get_close_matches(str(key), PROJECT_ARGUMENTS, n=1)
                    hint = f"; did you mean {near[0]!r}?" if near else ""
                    problems.append(f"{where}.{shorten(str(key))}: not an argument of a project{hint}")
            try:
                digests.append(body_digest(project_spec_body(spec))[:16])
            except WorkflowValidationError as err:
                problems.extend(f"{where}.{problem}" for problem in err.problems)
                problems.more += err.more
            name = spec.get("name")
            if isinstance(name, str):
                if name in names:
                    problems.append(
                        f"{where}.name: {shorten(name)!r} is also the name of projects[{names[name]}]; "
                        "project names are unique on the platform"
                    )
                names.setdefault(name, index)
        if problems:
            refused = SetupInputError(problems)
            raise input_failure(refused) from refused
        return list(specs or ()), digests

    def make_pacer(self) -> Pacer:
        """The pace every worker shares; it logs each slow-down."""
        from airflow_provider_annotation.hooks.pacing import Pacer

        def slowed(pause: float, rate: float) -> None:
            self.log.warning(
                "The platform asked to slow down: every worker pauses %.1f s, then goes on at %.1f creates/s",
                pause,
                rate,
            )

        return Pacer(on_slow_down=slowed)

    def execute(self, context: Context) -> list[dict[str, Any]] | None:
        try:
            return self._set_up(context)
        finally:
            self.close_hook()

    def _set_up(self, context: Context) -> list[dict[str, Any]] | None:
        from airflow_provider_annotation.operators._batch import STATE_KEY, Batch, Ledger, share_hook

        specs, digests = self.checked_specs()
        if self.is_dry_run:
            first = json.dumps(project_spec_body(specs[0])) if specs else "(none)"
            self.log.info(
                "Dry run: would set up %d projects (nothing sent); the first body:\n%s", len(specs), first
            )
            return None
        ledger = Ledger(TaskState(context, self.log))  # without a store, `_in_doubt` says what a retry does
        batch = Batch(
            specs=specs,
            digests=digests,
            build=project_spec_body,
            send=send_project,
            adopted=adopted_record,
            taken_name=taken_name,
            invisible_taken_name=invisible_taken_name,
            if_exists=self.if_exists,
            max_active=self.max_active_requests,
            ledger=ledger,
            log=self.log,
            progress_every_s=self.progress_every_s,
        )
        changed = batch.take_kept(ledger.load())
        if changed:
            raise AirflowFailException(
                "Specs changed since an earlier try created their projects; not creating second ones:\n  "
                + "\n  ".join(changed[:20])
                + (f"\n  ... and {len(changed) - 20} more" if len(changed) > 20 else "")
                + f"\nIf new projects are wanted, delete the task state keys {STATE_KEY!r} and "
                f"'{STATE_KEY}.<n>' of this task instance (UI or REST API), then clear the task."
            )
        in_doubt = self._in_doubt(context, batch, ledger)
        share_hook(self.hook, self.max_active_requests, self.make_pacer())
        results = batch.run(self.hook, in_doubt)
        self._report(results, batch)
        return results

    def _in_doubt(self, context: Context, batch: Any, ledger: Any) -> list[int]:
        """Specs an earlier try may have sent without keeping the answer: with a store, those below
        its ``sent_below``; without one (Airflow < 3.3), on a retry, every spec."""
        if ledger.state.durable:
            return [i for i in range(min(ledger.sent_below, len(batch.specs))) if batch.results[i] is None]
        self.log.warning(
            "No task_state_store (Airflow < 3.3): a retry of this task looks every project up by name "
            "before creating it, and adopts any project already carrying the name"
        )
        ti = context.get("ti")
        try_number = getattr(ti, "try_number", 1) or 1
        return list(range(len(batch.specs))) if try_number > 1 else []

    def _report(self, results: list[dict[str, Any]], batch: Any) -> None:
        counts = {outcome: 0 for outcome in ("created", "kept", "adopted", "failed")}
        for result in results:
            counts[result["outcome"]] += 1
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        self.log.info("Projects set up: %s", summary)
        if not counts["failed"]:
            return
        failed = [f"projects[{i}] {r['name']!r}: {r['error']}" for i, r in enumerate(results) if r["error"]]
        message = f"{counts['failed']} of {len(results)} projects failed ({summary}):\n  " + "\n  ".join(
            failed[:20]
        )
        if len(failed) > 20:
            message += f"\n  ... and {len(failed) - 20} more (see the task's return value)"
        if self.on_item_error == "continue":
            self.log.warning("%s\non_item_error='continue': the task succeeds.", message)
            return
        if batch.transient_failures:
            # A retry sends only what failed: everything else is kept.
            raise AirflowException(f"{message}\nA retry sends only the failed ones again.")
        raise AirflowFailException(f"{message}\nThe platform refused them; not retrying.")


class SubmitAnnotationDataOperator(AnnotationHookMixin, BaseOperator):
    """Send data for labeling: one task per data id, in chunks of `batch_size` requests.

    Returns ``{"task_ids": [...], "tasks": [{"taskId", "dataId"}], "rejected_data_ids": [...]}``,
    task ids as strings. Each chunk's answer is kept in ``task_state_store`` at once, so a retry
    sends only the chunks without a kept answer; a chunk whose answer was lost fails the task
    without retries, naming exactly the data ids in doubt.

    :param project_id: the project (an int or a string of digits, e.g. from XCom).
    :param data_ids: the data ids: a list of strings (ints are sent as strings), or its JSON (an
        XCom pull renders so); or the URI of a mapping file (JSON Lines ``{"sceneId", "dataId"}``,
        as `ImportDatasetOperator` writes with ``scene_ids_to``), read a chunk at a time.
    :param workflow_id: the workflow to use; None for the project's default workflow.
    :param dataset_id: the dataset the data ids belong to; sent only when given, and required when
        the connection's api_version is 2024-08 (its docs require ``datasetId``).
    :param batch_size: data ids per request (default 500).
    :param on_rejected: ``"fail"`` (default) or ``"warn"`` when the platform made no task for
        some data ids (its ``errorDataIdList``).
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the exact JSON bodies, send nothing, return None.
    """

    template_fields: Sequence[str] = (
        "project_id",
        "data_ids",
        "workflow_id",
        "dataset_id",
        "batch_size",
        "annotation_conn_id",
    )
    template_fields_renderers = {"data_ids": "json"}
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)
    #: task_state_store keys: this one holds the body digest and chunk count, and
    #: ``<state_key>.<n>`` the answer of chunk n (from 0). Renaming them breaks in-flight retries.
    state_key = "annotation_request"

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        data_ids: list[str] | str | XComArg,
        workflow_id: int | str | XComArg | None = None,
        dataset_id: int | str | XComArg | None = None,
        batch_size: int | str | XComArg = 500,
        on_rejected: str = "fail",
        annotation_conn_id: str = "annotation_default",
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_rejected not in ON_REJECTED:  # not templated: a wrong choice is a DAG error
            raise ValueError(f"on_rejected: expected 'fail' or 'warn', got {on_rejected!r}")
        self.project_id = project_id
        self.data_ids = data_ids
        self.workflow_id = workflow_id
        self.dataset_id = dataset_id
        self.batch_size = batch_size
        self.on_rejected = on_rejected
        self.annotation_conn_id = annotation_conn_id
        self.is_dry_run = dry_run
        self._given_fields = given_fields(self)

    def build_chunks(self) -> list[dict[str, Any]] | MappingChunks:
        """The exact bodies, one per chunk, every problem of every argument reported at once; for
        a mapping file, an iterable of them read from the file a chunk at a time."""
        problems = Problems()
        problems.extend(vanished_fields(self, self._given_fields))
        size = self.batch_size
        if isinstance(size, str) and size.strip().isdigit():
            size = int(size)
        size = problems.collect(lambda: to_count(size, "batch_size"))
        from_file = is_mapping_uri(self.data_ids)
        body = problems.collect(
            lambda: annotation_request_body(
                self.project_id,
                ["(from the mapping file)"] if from_file else self.data_ids,
                workflow_id=self.workflow_id,
                dataset_id=self.dataset_id,
            ),
        )
        if problems:
            raise SetupInputError(problems)
        if from_file:
            base = {key: value for key, value in body.items() if key != "dataIds"}
            return MappingChunks(_mapping_opener(str(self.data_ids).strip()), base, size).check()
        ids = body["dataIds"]
        return [{**body, "dataIds": ids[i : i + size]} for i in range(0, len(ids), size)]

    def execute(self, context: Context) -> dict[str, Any] | None:
        try:
            return self._submit(context)
        finally:
            self.close_hook()

    def _submit(self, context: Context) -> dict[str, Any] | None:
        try:
            chunks = self.build_chunks()
        except AnnotationInputError as err:
            raise input_failure(err) from err
        if self.is_dry_run:
            for n, chunk in enumerate(chunks):
                if n == 3 and isinstance(chunks, MappingChunks):
                    self.log.info("Dry run: %d more chunks from the mapping file not shown", len(chunks) - 3)
                    break
                self.log.info(
                    "Dry run: would POST this Annotation Request body, chunk %d of %d (nothing sent):\n%s",
                    n + 1,
                    len(chunks),
                    json.dumps(chunk),
                )
            push_no_link(context)
            return None
        state = TaskState(context, self.log, without="a retry of this task sends every chunk again")
        digest = chunks.digest if isinstance(chunks, MappingChunks) else body_digest(chunks)
        self._check_kept(state, digest, len(chunks))
        answers = self._send_chunks(chunks, state, context)
        return self._outcome(answers)

    def _check_kept(self, state: TaskState, digest: str, count: int) -> None:
        """Refuse chunks of other parameters than an earlier try's; note these before the first."""
        kept = state.kept_for(
            self.state_key,
            digest,
            refusal=lambda kept: (
                "An earlier try of this task sent annotation requests for different parameters; not "
                "sending these. If they are wanted, delete the task state keys "
                f"{self.state_key!r} and {self.state_key + '.<n>'!r} of this task instance (UI or REST API), "
                "then clear the task."
            ),
        )
        if kept is None:
            state.keep(self.state_key, {DIGEST_KEY: digest, "chunks": count})

    def _send_chunks(
        self, chunks: list[dict[str, Any]] | MappingChunks, state: TaskState, context: Context
    ) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        total = (
            chunks.data_id_count
            if isinstance(chunks, MappingChunks)
            else sum(len(chunk["dataIds"]) for chunk in chunks)
        )
        done = 0
        hook = self.hook
        project_id = chunks.project_id if isinstance(chunks, MappingChunks) else chunks[0]["projectId"]
        push_platform_url(context, hook.config, self.log, project_id=project_id)
        for n, chunk in enumerate(chunks):
            key = f"{self.state_key}.{n}"
            kept = state.read(key)
            done += len(chunk["dataIds"])
            if isinstance(kept, dict):
                self.log.info(
                    "Chunk %d of %d was answered on an earlier try: not sent again", n + 1, len(chunks)
                )
                answers.append(kept)
                continue
            answer = self._send_chunk(hook, chunk, n, len(chunks), total - done)
            state.keep(key, answer)  # first thing after the answer
            answers.append(answer)
            self.log.info(
                "Chunk %d of %d: %s made, %s rejected",
                n + 1,
                len(chunks),
                counted(len(answer["tasks"]), "task"),
                counted(len(answer["rejected_data_ids"]), "data id"),
            )
        return answers

    def _send_chunk(
        self, hook: AnnotationHook, chunk: dict[str, Any], n: int, count: int, unsent: int
    ) -> dict[str, Any]:
        try:
            return hook.send_annotation_request(chunk).to_dict()
        except AnnotationMayHaveTakenEffectError as err:
            raise AirflowFailException(
                f"{err}\nNot retrying this task: the answer to chunk {n + 1} of {count} was lost, so "
                f"the platform may have made tasks for these {len(chunk['dataIds'])} data ids: "
                f"{', '.join(chunk['dataIds'])}. The answers of the {n} chunks before it are kept and will "
                f"not be sent again; {unsent} data ids of later chunks were not sent. Check the project's "
                "tasks for the data ids in doubt, then clear the task: it sends only the chunks without a "
                "kept answer (the docs say a project makes only one task per data id)."
            ) from err
        except (AnnotationValidationError, AnnotationConflictError) as err:
            raise AirflowFailException(f"{err}\n{NOT_RETRYING_REFUSAL}") from err
        except AnnotationInputError as err:
            raise input_failure(err) from err

    def _outcome(self, answers: list[dict[str, Any]]) -> dict[str, Any]:
        tasks = [task for answer in answers for task in answer["tasks"]]
        rejected = [data_id for answer in answers for data_id in answer["rejected_data_ids"]]
        result = {"task_ids": [t["taskId"] for t in tasks], "tasks": tasks, "rejected_data_ids": rejected}
        self.log.info("%s made, %s rejected", counted(len(tasks), "task"), counted(len(rejected), "data id"))
        if rejected:
            message = (
                f"The platform made no task for {len(rejected)} data ids: {', '.join(rejected)} "
                f"({len(tasks)} tasks were made)"
            )
            if self.on_rejected == "fail":
                raise AirflowFailException(
                    f"{message}. Not retrying: every chunk's answer is kept, a retry would send nothing. "
                    "Use on_rejected='warn' to accept rejected data ids."
                )
            self.log.warning("%s", message)
        return result


def _mapping_opener(uri: str) -> Any:
    """Opens the mapping file at `uri` (an ObjectStoragePath URI or an absolute local path)."""

    def opener() -> Any:
        from airflow_provider_annotation.operators.datasets import storage_path

        return storage_path(uri).open("rb")

    return opener


class AnnotationStatsOperator(AnnotationHookMixin, BaseOperator):
    """Fetch a workflow's effort and efficiency statistics; returns the stat ``data`` dict.

    :param project_id: the project (an int or a string of digits, e.g. from XCom).
    :param workflow_id: the workflow (e.g. CreateProjectOperator's XCom ``workflow_id``).
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    """

    template_fields: Sequence[str] = ("project_id", "workflow_id", "annotation_conn_id")
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        workflow_id: int | str | XComArg,
        annotation_conn_id: str = "annotation_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.workflow_id = workflow_id
        self.annotation_conn_id = annotation_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        problems = Problems()
        project_id = problems.collect(lambda: to_project_id(self.project_id))
        workflow_id = problems.collect(lambda: to_project_id(self.workflow_id, "workflow_id"))
        if problems:
            err = SetupInputError(problems)
            raise input_failure(err) from err
        try:
            return self.hook.run_stat(project_id, workflow_id)
        except AnnotationValidationError as err:
            raise AirflowFailException(f"{err}\n{NOT_RETRYING_REFUSAL}") from err
        finally:
            self.close_hook()
