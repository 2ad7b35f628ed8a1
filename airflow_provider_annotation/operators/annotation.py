"""CreateWorkflowOperator: a workflow on the annotation platform from templated task parameters.

Imports no HTTP library at module level (the hook is imported inside `execute`), so DAG files using
it parse at near-zero cost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_annotation.coercion import to_name_list, to_pools
from airflow_provider_annotation.exceptions import (
    AnnotationMayHaveTakenEffectError,
    AnnotationValidationError,
)
from airflow_provider_annotation.workflow import WorkflowValidationError, build_pools, create_workflow_body

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: Shorthand parameters, each a list of names, for `build_pools`.
SHORTHAND = ("labelers", "inspectors", "spot_checkers", "algorithms")


class CreateWorkflowOperator(BaseOperator):
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

    template_fields: Sequence[str] = ("project_id", "pools", *SHORTHAND)
    template_ext: Sequence[str] = (".json",)
    template_fields_renderers = {"pools": "json"}
    ui_color = "#e8f4ea"

    #: task_state_store key of the created workflow. Renaming it breaks in-flight retries.
    state_key = "annotation_workflow"

    def __init__(
        self,
        *,
        project_id: int | str,
        pools: list[dict[str, Any]] | str | None = None,
        labelers: list[str] | str | None = None,
        inspectors: list[str] | str | None = None,
        spot_checkers: list[str] | str | None = None,
        algorithms: list[str] | str | None = None,
        annotation_conn_id: str = "annotation_default",
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.pools = pools
        self.labelers = labelers
        self.inspectors = inspectors
        self.spot_checkers = spot_checkers
        self.algorithms = algorithms
        self.annotation_conn_id = annotation_conn_id
        # Not `self.dry_run`: that name is BaseOperator's dry_run() method.
        self.is_dry_run = dry_run

    def build_body(self) -> dict[str, Any]:
        """The exact request body from the rendered fields, checked before anything is sent; every
        problem of every argument is reported at once."""
        pools, parse_problems = None, []
        try:
            pools = self._pools()
        except WorkflowValidationError as err:
            parse_problems = err.problems
        try:
            body = create_workflow_body(self.project_id, pools)
        except WorkflowValidationError as err:
            raise WorkflowValidationError(err.problems + parse_problems) from None
        if parse_problems:
            raise WorkflowValidationError(parse_problems)
        return body

    def _pools(self) -> list[Any] | None:
        """`pools` as rendered (parsed, not yet checked), or pools built from the shorthand."""
        given = [name for name in SHORTHAND if getattr(self, name) is not None]
        if self.pools is not None and given:
            raise WorkflowValidationError(
                f"pools: give either pools or the shorthand ({', '.join(given)}), not both"
            )
        if self.pools is not None:
            return to_pools(self.pools)
        if not given:
            return None
        names: dict[str, list[str] | None] = {}
        problems: list[str] = []
        for name in SHORTHAND:
            try:
                names[name] = to_name_list(getattr(self, name), name)
            except WorkflowValidationError as err:
                problems.extend(err.problems)
        if problems:
            raise WorkflowValidationError(problems)
        return build_pools(**names)

    def execute(self, context: Context) -> int | None:
        try:
            body = self.build_body()
        except WorkflowValidationError as err:
            # A retry renders the same values again: fail now instead of after every retry delay.
            raise AirflowFailException(
                f"{err}\nNothing was sent; not retrying: fix the task's arguments."
            ) from err
        if self.is_dry_run:
            self.log.info(
                "Dry run: would POST this Create Workflow body (nothing sent):\n%s", json.dumps(body)
            )
            return None

        store = context.get("task_state_store")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        kept = self._kept_workflow_id(store, digest)
        if kept is not None:
            return kept

        from airflow_provider_annotation.hooks.annotation import AnnotationHook

        with AnnotationHook(annotation_conn_id=self.annotation_conn_id) as hook:
            try:
                workflow_id = hook.send_create_workflow(body)
            except AnnotationMayHaveTakenEffectError as err:
                if hook.config.retry.retry_ambiguous:
                    raise
                # An Airflow retry would re-send what the hook deliberately did not: it could
                # create a second workflow. Stop, and say what to check.
                raise AirflowFailException(
                    f"{err}\nNot retrying this task: the workflow may exist already. Check project "
                    f"{body['projectId']} on the platform (quote the requestId to support, if any), "
                    "then clear the task to create it again if it does not exist."
                ) from err
            except AnnotationValidationError as err:
                raise AirflowFailException(f"{err}\nThe platform refused the request; not retrying.") from err
        if store is not None:
            store.set(self.state_key, {"workflowId": workflow_id, "body_sha256": digest})
        self.log.info("Workflow %s created in project %s", workflow_id, body["projectId"])
        return workflow_id

    def _kept_workflow_id(self, store: Any, digest: str) -> int | None:
        """The id an earlier try of this task instance created for the same body, if any."""
        if store is None:
            self.log.warning(
                "No task_state_store (Airflow < 3.3): if this task is retried after the platform created "
                "the workflow, the retry creates a second one"
            )
            return None
        kept = store.get(self.state_key)
        if not isinstance(kept, dict) or not isinstance(kept.get("workflowId"), int):
            return None
        if kept.get("body_sha256") != digest:
            # Creating again would orphan the first workflow; only a person can tell which is right.
            raise AirflowFailException(
                f"An earlier try of this task created workflow {kept['workflowId']}, but this try "
                "renders different parameters; not creating a second workflow. If a new one is "
                f"wanted, delete the task state key {self.state_key!r} of this task instance (UI or "
                "REST API), then clear the task."
            )
        self.log.info(
            "Workflow %s was already created by an earlier try of this task; returning it without a second "
            "create",
            kept["workflowId"],
        )
        return kept["workflowId"]
