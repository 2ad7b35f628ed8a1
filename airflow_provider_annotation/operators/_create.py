"""The one create protocol every create operator follows, so each says the same thing on a retry.

1. Render, then check everything, reporting every problem at once: bad input fails the task
   without Airflow retries (a retry renders the same values).
2. ``dry_run``: log the exact body, send nothing.
3. A kept id in the task instance's ``task_state_store`` for the same body is returned without a
   call; for a different body the task fails instead of orphaning the first object.
4. Send; keep the new id with a digest of the body right after the answer, before any other call.
5. A lost answer fails closed (no Airflow retry) saying what to check, unless the operator can
   recover by looking the object up; a platform refusal fails without retries too.

Imports no HTTP library: the hook is imported inside `execute`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_annotation.operators._state import (  # noqa: F401 - body_digest, note_no_state_store re-exported
    DIGEST_KEY,
    TaskState,
    body_digest,
    note_no_state_store,
)
from airflow_provider_annotation.operators.base import (  # noqa: F401 - connection_failure, open_hook re-exported
    AnnotationHookMixin,
    connection_failure,
    open_hook,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_annotation.exceptions import (
        AnnotationConflictError,
        AnnotationInputError,
        AnnotationMayHaveTakenEffectError,
    )
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

#: Shorthand parameters of the operators that carry a workflow, each a list of names, for `build_pools`.
SHORTHAND = ("labelers", "inspectors", "spot_checkers", "algorithms")

NOT_RETRYING_INPUT = "Nothing was sent; not retrying: fix the task's arguments."
NOT_RETRYING_REFUSAL = "The platform refused the request; not retrying."


def input_failure(err: AnnotationInputError) -> AirflowFailException:
    """Bad input fails now instead of after every retry delay: a retry renders the same values."""
    return AirflowFailException(f"{err}\n{NOT_RETRYING_INPUT}")


def workflow_pools(pools: object, shorthand: Mapping[str, object]) -> list[Any] | None:
    """The pools as given (parsed from a rendered string, not yet checked), or built from the
    shorthand lists, or None for the platform's default workflow. Giving both is an error."""
    from airflow_provider_annotation.coercion import to_name_list, to_pools
    from airflow_provider_annotation.workflow import Problems, WorkflowValidationError, build_pools

    given = [name for name in SHORTHAND if shorthand.get(name) is not None]
    if pools is not None and given:
        raise WorkflowValidationError(
            f"pools: give either pools or the shorthand ({', '.join(given)}), not both"
        )
    if pools is not None:
        return to_pools(pools)
    if not given:
        return None
    names: dict[str, list[str] | None] = {}
    problems = Problems()
    for name in SHORTHAND:
        try:
            names[name] = to_name_list(shorthand.get(name), name)
        except WorkflowValidationError as err:
            problems.add(err)
    if problems:
        raise WorkflowValidationError(problems)
    return build_pools(**names)


def given_fields(task: BaseOperator, names: Iterable[str] | None = None) -> frozenset[str]:
    """Which templated arguments (`names`, by default all) were given, noted at the end of
    ``__init__`` so that one rendering to None later is refused by `vanished_fields`."""
    return frozenset(
        name for name in (task.template_fields if names is None else names) if getattr(task, name) is not None
    )


def vanished_fields(task: BaseOperator, given: frozenset[str]) -> list[str]:
    """Problems for arguments given in the DAG that rendered to None (a missing upstream value
    with native rendering, or an XCom of None): never taken as "leave it out"."""
    return [
        f"{name}: given as a template or XCom that rendered to None (a missing upstream value?); "
        "pass None itself to leave it out"
        for name in task.template_fields
        if name in given and getattr(task, name) is None
    ]


class AnnotationCreateOperator(AnnotationHookMixin, BaseOperator):
    """Base of the operators that create one object on the platform; see the module docstring.

    A subclass sets `object_name`, `id_key` and `state_key`, and implements `build_body` and
    `send`; it may override `lost_advice`, `recover_lost`, `on_conflict` and `result`.

    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the exact JSON body, send nothing, return None.
    """

    #: What is created, for messages: ``workflow``.
    object_name = "object"
    #: The id's key in the answer and in the kept record: ``workflowId``.
    id_key = "id"
    #: The endpoint's name in the dry-run log line: ``Create Workflow``.
    endpoint_name = "create"
    #: task_state_store key of the kept record. Renaming it breaks in-flight retries.
    state_key = "annotation_object"
    #: What a kept id is: the platform's longs are ints, a dataset id is a string.
    id_types: tuple[type, ...] = (int,)

    def __init__(
        self, *, annotation_conn_id: str = "annotation_default", dry_run: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.annotation_conn_id = annotation_conn_id
        # Not `self.dry_run`: that name is BaseOperator's dry_run() method.
        self.is_dry_run = dry_run

    # -- what a subclass provides ---------------------------------------------------------------

    def build_body(self) -> dict[str, Any]:
        """The exact request body from the rendered fields; raises `AnnotationInputError` with
        every problem."""
        raise NotImplementedError

    def send(self, hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
        """Send the create; return the JSON-ready record to keep, holding `id_key`."""
        raise NotImplementedError

    def lost_advice(self, body: dict[str, Any]) -> str:
        """What a person should check after a lost answer, and how to go on."""
        return (
            "Check the platform (quote the requestId to support, if any), then clear the task to create it "
            "again if it does not exist."
        )

    def recover_lost(
        self, hook: AnnotationHook, body: dict[str, Any], err: AnnotationMayHaveTakenEffectError
    ) -> dict[str, Any] | None:
        """After a lost answer: the record of the object found on the platform, or None to fail
        closed. Nothing can be looked up by default."""
        return None

    def on_conflict(
        self, hook: AnnotationHook, body: dict[str, Any], err: AnnotationConflictError
    ) -> dict[str, Any]:
        """The name is taken (5801/5836): by default, fail without retries."""
        raise AirflowFailException(f"{err}\nThe name is taken; not retrying: choose another name.") from err

    def describe_created(self, record: Mapping[str, Any], body: dict[str, Any]) -> str:
        """The log line after a create (or an adoption)."""
        verb = "adopted (it existed already)" if record.get("adopted") else "created"
        return f"{self.object_name.capitalize()} {record[self.id_key]} {verb}"

    def result(self, record: Mapping[str, Any], context: Context) -> Any:
        """The task's return value (XCom ``return_value``) from the kept record."""
        return record[self.id_key]

    def link_ids(self, record: Mapping[str, Any], body: dict[str, Any]) -> dict[str, object] | None:
        """The ids the platform link of this task shows (``project_id``), or None for no link.
        A subclass that returns ids also declares ``operator_extra_links``."""
        return None

    # -- the protocol ---------------------------------------------------------------------------

    def note_given(self) -> None:
        """Subclasses call this at the end of ``__init__``: which templated arguments were given, so
        one that renders to None is refused rather than left out."""
        self._given_fields = given_fields(self)

    def checked_body(self) -> dict[str, Any]:
        from airflow_provider_annotation.exceptions import AnnotationInputError
        from airflow_provider_annotation.project import SetupInputError
        from airflow_provider_annotation.workflow import WorkflowValidationError

        vanished = vanished_fields(self, getattr(self, "_given_fields", frozenset()))
        failure: AnnotationInputError | None = SetupInputError(vanished) if vanished else None
        try:
            body = self.build_body()
        except WorkflowValidationError as err:
            failure = SetupInputError(vanished + err.problems, err.more) if vanished else err
        except AnnotationInputError as err:
            failure = err
        if failure is not None:
            raise input_failure(failure) from failure
        return body

    def execute(self, context: Context) -> Any:
        try:
            return self._execute(context)
        finally:
            self.close_hook()

    def _execute(self, context: Context) -> Any:
        from airflow_provider_annotation.links import push_no_link, push_platform_url

        body = self.checked_body()
        if self.is_dry_run:
            self.log.info(
                "Dry run: would POST this %s body (nothing sent):\n%s", self.endpoint_name, json.dumps(body)
            )
            if self.operator_extra_links:
                push_no_link(context)
            return None
        state = TaskState(
            context,
            self.log,
            without=f"if this task is retried after the platform created the {self.object_name}, the retry "
            "creates a second one",
        )
        digest = body_digest(body)
        record = self.kept_record(state, digest)
        if record is None:
            record = {**self.create(body), DIGEST_KEY: digest}
            state.keep(self.state_key, record)  # first thing after the answer
            self.log.info("%s", self.describe_created(record, body))
        ids = self.link_ids(record, body)
        if ids is not None:
            push_platform_url(context, self.hook.config, self.log, **ids)
        return self.result(record, context)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send the create through a hook, turning the outcomes the protocol owns into failures."""
        from airflow_provider_annotation.exceptions import (
            AnnotationConflictError,
            AnnotationInputError,
            AnnotationMayHaveTakenEffectError,
            AnnotationValidationError,
        )

        hook = self.hook
        try:
            return self.send(hook, body)
        except AnnotationMayHaveTakenEffectError as err:
            recovered = self.recover_lost(hook, body, err)
            if recovered is not None:
                return recovered
            if hook.config.retry.retry_ambiguous:
                raise
            # An Airflow retry would re-send what the hook deliberately did not: it could
            # create a second object. Stop, and say what to check.
            raise AirflowFailException(
                f"{err}\nNot retrying this task: the {self.object_name} may exist already. "
                f"{self.lost_advice(body)}"
            ) from err
        except AnnotationConflictError as err:
            return self.on_conflict(hook, body, err)
        except AnnotationValidationError as err:
            raise AirflowFailException(f"{err}\n{NOT_RETRYING_REFUSAL}") from err
        except AnnotationInputError as err:
            raise input_failure(err) from err

    def kept_record(self, state: TaskState, digest: str) -> dict[str, Any] | None:
        """The record an earlier try of this task instance kept for the same body, if any."""
        kept = state.kept_for(
            self.state_key,
            digest,
            valid=lambda record: isinstance(record.get(self.id_key), self.id_types),
            refusal=self._changed_body,
        )
        if kept is None:
            return None
        self.log.info(
            "%s %s was already %s by an earlier try of this task; returning it without a second create",
            self.object_name.capitalize(),
            kept[self.id_key],
            "adopted" if kept.get("adopted") else "created",
        )
        return kept

    def _changed_body(self, kept: dict[str, Any]) -> str:
        # Creating again would orphan the first object; only a person can tell which is right.
        name, object_id = self.object_name, kept[self.id_key]
        verb = "adopted" if kept.get("adopted") else "created"
        return (
            f"An earlier try of this task {verb} {name} {object_id}, but this try renders different "
            f"parameters; not creating a second {name}. If a new one is wanted, delete the task state "
            f"key {self.state_key!r} of this task instance (UI or REST API), then clear the task."
        )
