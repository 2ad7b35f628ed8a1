"""The web UI link: the `ui_url_template` extra, checked like every extra, and rendered per task."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from airflow_provider_annotation.links import platform_url


def Conn(**extra: object) -> Connection:  # noqa: N802 - reads like the class it builds
    return Connection(
        conn_id="c",
        conn_type="annotation",
        host="https://api.example.com/openapi",
        login="ak",
        password="sk",
        extra=json.dumps(extra),
    )


def test_unset_means_no_link() -> None:
    assert AnnotationConnectionConfig.from_connection(Conn()).ui_url_template is None
    assert platform_url(None, project_id=1) is None


def test_template_renders_the_ids_the_task_has() -> None:
    template = "https://app.example.com/projects/{project_id}"
    assert (
        AnnotationConnectionConfig.from_connection(Conn(ui_url_template=template)).ui_url_template == template
    )
    assert platform_url(template, project_id=42) == "https://app.example.com/projects/42"
    both = "https://app.example.com/p/{project_id}/imports/{batch_id}"
    assert platform_url(both, project_id=1, batch_id="77") == "https://app.example.com/p/1/imports/77"
    assert platform_url(both, project_id=1) is None  # a sensor has no batch: no half-filled link


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (3, "expected a URL string"),
        ("https://app.example.com/projects", "and it has none"),
        ("https://app.example.com/{task_id}", "not ['task_id']"),
        ("https://app.example.com/{project_id", "is not a template"),
        ("javascript:alert({project_id})", "expected an http(s) URL"),
    ],
)
def test_bad_templates_name_the_extra(value: object, reason: str) -> None:
    with pytest.raises(AnnotationConnectionConfigError, match="extra 'ui_url_template'") as caught:
        AnnotationConnectionConfig.from_connection(Conn(ui_url_template=value))
    assert reason in str(caught.value)


def test_provider_info_registers_the_link() -> None:
    import importlib

    from airflow_provider_annotation.get_provider_info import get_provider_info

    (path,) = get_provider_info()["extra-links"]
    module, _, name = path.rpartition(".")
    link = getattr(importlib.import_module(module), name)()
    assert link.name == "Annotation platform"
    from airflow_provider_annotation.operators import annotation as ops
    from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor

    for operator in (
        ops.SendTasksOperator,
        AnnotationTaskSensor,
        ops.CreateProjectOperator,
        ops.SubmitAnnotationDataOperator,
        ops.CreateWorkflowOperator,
        ops.ExportTasksOperator,
    ):
        assert [type(x).__name__ for x in operator.operator_extra_links] == [name]


# --- README promises checked by deliberate breakage (audit) -------------------------------------


def test_the_sensor_pushes_its_link_before_deferring_and_a_batch_template_gives_none(
    emulator, monkeypatch
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor
    from tests.helpers import RecordingTi, set_conn

    for template, expected in (
        (
            "https://app.example.com/projects/{project_id}",
            {"annotation_platform_url": "https://app.example.com/projects/42"},
        ),
        # No link, but the key exists: Airflow reads it at the end of the task, and a missing key
        # logs "XCom not found" at ERROR in a green run.
        ("https://app.example.com/p/{project_id}/imports/{batch_id}", {"annotation_platform_url": ""}),
    ):
        conn = set_conn(monkeypatch, "link_sensor", emulator.url, ui_url_template=template)
        sensor = AnnotationTaskSensor(
            task_id="wait", project_id=42, task_ids=["1"], deferrable=True, annotation_conn_id=conn
        )
        ti = RecordingTi()
        with pytest.raises(TaskDeferred):
            sensor.execute({"ti": ti})
        assert ti.pushed == expected
    assert emulator.requests == []


def test_the_link_shows_the_url_pushed_under_its_xcom_key(monkeypatch) -> None:
    # The UI calls get_link in the API server; XCom storage is stood in for by a dict here.
    from airflow_provider_annotation import links

    stored = {"annotation_platform_url": "https://app.example.com/projects/42"}
    monkeypatch.setattr(links.XCom, "get_value", lambda *, ti_key, key: stored.get(key))
    link = links.AnnotationPlatformLink()
    assert link.get_link(None, ti_key=object()) == "https://app.example.com/projects/42"
    stored.clear()
    assert link.get_link(None, ti_key=object()) == ""  # no template: no link


@pytest.mark.parametrize(
    "template",
    [
        "https://app.example.com/p/{project_id:d}",  # crashed execute: the id is text
        "https://app.example.com/p/{project_id:08}",  # pointed at another project (zero-padded)
        "https://app.example.com/p/{project_id!z}",  # crashed execute: unknown conversion
        "https://app.example.com/p/{project_id!r}",  # quotes around the id
        "https://app.example.com/p/{project_id:>200000000}",  # built a 200 MB link
        "https://app.example.com/p/{project_id}/b/{batch_id:{project_id}}",  # nested spec
    ],
)
def test_format_specs_and_conversions_are_refused_where_the_connection_is_read(
    template: str, emulator, monkeypatch
) -> None:
    with pytest.raises(AnnotationConnectionConfigError, match="extra 'ui_url_template'") as caught:
        AnnotationConnectionConfig.from_connection(Conn(ui_url_template=template))
    assert "format specs and conversions are not allowed" in str(caught.value)
    assert len(str(caught.value)) < 500

    # In a task: the connection error, not retried (not a ValueError from str.format, not a huge
    # link), before any request.
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor
    from tests.helpers import RecordingTi, set_conn

    conn = set_conn(monkeypatch, "link_bad", emulator.url, ui_url_template=template)
    sensor = AnnotationTaskSensor(task_id="wait", project_id=42, task_ids=["1"], annotation_conn_id=conn)
    with pytest.raises(AirflowFailException, match="(?s)extra 'ui_url_template'.*not retrying"):
        sensor.execute({"ti": RecordingTi()})
    assert emulator.requests == []


def test_a_huge_template_is_refused() -> None:
    template = "https://app.example.com/{project_id}/" + "a" * 5000
    with pytest.raises(AnnotationConnectionConfigError, match="longer than 2048 characters"):
        AnnotationConnectionConfig.from_connection(Conn(ui_url_template=template))


def test_every_id_placed_into_a_link_is_url_quoted() -> None:
    both = "https://app.example.com/p/{project_id}/imports/{batch_id}"
    url = platform_url(both, project_id=7, batch_id="1/../../../admin?x=#")
    assert url == "https://app.example.com/p/7/imports/1%2F..%2F..%2F..%2Fadmin%3Fx%3D%23"
    assert platform_url(both, project_id=7, batch_id="b 7f/é") == (
        "https://app.example.com/p/7/imports/b%207f%2F%C3%A9"
    )


def test_every_operator_that_knows_the_project_pushes_its_link(emulator, monkeypatch, tmp_path) -> None:
    from airflow_provider_annotation.operators import annotation as ops
    from tests.helpers import OPERATORS, RecordingTi, set_conn

    conn = set_conn(
        monkeypatch, "link_ops", emulator.url, ui_url_template="https://app.example.com/p/{project_id}"
    )
    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 1)  # restored after
    common = {"annotation_conn_id": conn}

    def run(operator) -> tuple[object, dict]:
        ti = RecordingTi()
        return operator.execute({"ti": ti}), ti.pushed

    project_id, pushed = run(
        ops.CreateProjectOperator(
            task_id="p", name="Linked", data_type=2, deadline="2030-01-01", operators=OPERATORS, **common
        )
    )
    link = {"annotation_platform_url": f"https://app.example.com/p/{project_id}"}
    assert pushed == {**link, "workflow_id": pushed["workflow_id"]}
    assert run(ops.CreateWorkflowOperator(task_id="w", project_id=project_id, **common))[1] == link
    sent, pushed = run(
        ops.SubmitAnnotationDataOperator(task_id="s", project_id=project_id, data_ids=["a"], **common)
    )
    assert pushed == link
    destination = f"file://{tmp_path}/out.jsonl"
    assert (
        run(
            ops.ExportTasksOperator(
                task_id="e",
                project_id=project_id,
                task_ids=sent["task_ids"],
                destination=destination,
                **common,
            )
        )[1]
        == link
    )
