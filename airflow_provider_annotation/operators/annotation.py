"""CreateWorkflowOperator: a workflow on the annotation platform from templated task parameters.

Imports no HTTP library and no part of the model at module level (both are imported inside
`execute`), so DAG files using it parse at near-zero cost. The other operators are importable from
here too; each is loaded on first use (module ``__getattr__``), so a DAG that uses only
`CreateWorkflowOperator` does not pay for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_annotation.links import AnnotationPlatformLink
from airflow_provider_annotation.operators._create import (
    SHORTHAND,
    AnnotationCreateOperator,
    given_fields,
    vanished_fields,
    workflow_pools,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import XComArg

    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.operators.export import ExportTasksOperator
    from airflow_provider_annotation.operators.project_setup import (
        AnnotationStatsOperator,
        CreateFolderOperator,
        CreateProjectOperator,
        CreateProjectsOperator,
        SubmitAnnotationDataOperator,
    )
    from airflow_provider_annotation.operators.send_tasks import SendTasksOperator


class CreateWorkflowOperator(AnnotationCreateOperator):
    """Create a workflow (the pools annotation tasks go through) in a platform project.

    Give either `pools` (full control, as in the platform docs) or the shorthand lists
    (`labelers`, `inspectors`, `spot_checkers`, `algorithms`); give neither to let the platform
    apply its default workflow. Everything is checked after templates render and before anything
    is sent. Returns the new `workflowId` (an int, pushed to XCom as ``return_value``).

    A retry of the task after the platform confirmed the workflow returns the kept id instead of
    creating a second workflow (kept in the task's ``task_state_store``, Airflow 3.3+).

    :param project_id: the project's id: an int or a string of digits (e.g. from XCom).
    :param pools: the pools list, its JSON, or a path to a ``.json`` template holding it.
    :param labelers: account names for the labeling pool (shorthand).
    :param inspectors: account names for an inspection pool (shorthand; omitted when empty).
    :param spot_checkers: account names for a spot-check pool (shorthand; omitted when empty).
    :param algorithms: algorithms for a pre-labeling algorithm pool (shorthand; omitted when empty).
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the exact JSON body, send nothing, return None.
    """

    template_fields: Sequence[str] = ("project_id", "pools", *SHORTHAND, "annotation_conn_id")
    template_ext: Sequence[str] = (".json",)
    template_fields_renderers = {"pools": "json"}
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)

    object_name = "workflow"
    id_key = "workflowId"
    endpoint_name = "Create Workflow"
    #: task_state_store key of the created workflow. Renaming it breaks in-flight retries.
    state_key = "annotation_workflow"

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        pools: list[dict[str, Any]] | str | XComArg | None = None,
        labelers: list[str] | str | XComArg | None = None,
        inspectors: list[str] | str | XComArg | None = None,
        spot_checkers: list[str] | str | XComArg | None = None,
        algorithms: list[str] | str | XComArg | None = None,
        annotation_conn_id: str = "annotation_default",
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(annotation_conn_id=annotation_conn_id, dry_run=dry_run, **kwargs)
        self.project_id = project_id
        self.pools = pools
        self.labelers = labelers
        self.inspectors = inspectors
        self.spot_checkers = spot_checkers
        self.algorithms = algorithms
        # Only noted, not checked: a field given here that renders to None is a missing value
        # upstream (native rendering), not a request for the default.
        self._given = given_fields(self, ("pools", *SHORTHAND))

    def build_body(self) -> dict[str, Any]:
        """The exact request body from the rendered fields, checked before anything is sent; every
        problem of every argument is reported at once (the first `MAX_PROBLEMS`, and a count)."""
        from airflow_provider_annotation.validation import WORKFLOW_INPUT
        from airflow_provider_annotation.workflow import (
            Problems,
            WorkflowValidationError,
            create_workflow_body,
        )

        problems = Problems()
        pools = None
        try:
            pools = self._pools()
        except WorkflowValidationError as err:
            problems.add(err)
        try:
            body = create_workflow_body(self.project_id, pools)
        except WorkflowValidationError as err:
            # project_id's problems first: the order the arguments are documented in.
            first = Problems()
            first.add(err)
            first.extend(problems)  # carries the count of problems beyond the listed ones
            raise WorkflowValidationError(first, subject=WORKFLOW_INPUT) from None
        if problems:
            raise WorkflowValidationError(problems, subject=WORKFLOW_INPUT)
        return body

    def _pools(self) -> list[Any] | None:
        """`pools` as rendered (parsed, not yet checked), or pools built from the shorthand."""
        from airflow_provider_annotation.validation import WORKFLOW_INPUT
        from airflow_provider_annotation.workflow import WorkflowValidationError

        vanished = vanished_fields(self, self._given)
        if vanished:
            raise WorkflowValidationError(vanished, subject=WORKFLOW_INPUT)
        return workflow_pools(self.pools, {name: getattr(self, name) for name in SHORTHAND})

    def send(self, hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
        return {"workflowId": hook.send_create_workflow(body)}

    def lost_advice(self, body: dict[str, Any]) -> str:
        return (
            f"Check project {body['projectId']} on the platform (quote the requestId to support, if any), "
            "then clear the task to create it again if it does not exist."
        )

    def describe_created(self, record: Mapping[str, Any], body: dict[str, Any]) -> str:
        return f"Workflow {record['workflowId']} created in project {body['projectId']}"

    def link_ids(self, record: Mapping[str, Any], body: dict[str, Any]) -> dict[str, object] | None:
        return {"project_id": body["projectId"]}


#: The operators of the other modules, importable from here as in earlier releases: name -> module.
_ELSEWHERE = {
    "AnnotationStatsOperator": "project_setup",
    "CreateFolderOperator": "project_setup",
    "CreateProjectOperator": "project_setup",
    "CreateProjectsOperator": "project_setup",
    "SubmitAnnotationDataOperator": "project_setup",
    "SendTasksOperator": "send_tasks",
    "ExportTasksOperator": "export",
}


def __getattr__(name: str) -> Any:
    """Load an operator of another module on first use, so parsing a DAG pays only for what it uses."""
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"airflow_provider_annotation.operators.{module}"), name)
    globals()[name] = value  # the next lookup does not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ELSEWHERE})


__all__ = [
    "AnnotationStatsOperator",
    "CreateFolderOperator",
    "CreateProjectOperator",
    "CreateProjectsOperator",
    "CreateWorkflowOperator",
    "ExportTasksOperator",
    "SendTasksOperator",
    "SubmitAnnotationDataOperator",
]
