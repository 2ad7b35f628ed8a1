"""The provider info Airflow reads at start-up: valid against Airflow's own schemas."""

from __future__ import annotations

import importlib
import importlib.resources
import json
from importlib.metadata import entry_points

import jsonschema
import pytest

from airflow_provider_annotation.get_provider_info import get_provider_info


def _airflow_schema(name: str) -> dict:
    return json.loads(importlib.resources.files("airflow").joinpath(name).read_text())


def test_valid_against_airflow_provider_info_schema():
    jsonschema.validate(get_provider_info(), _airflow_schema("provider_info.schema.json"))


def test_connection_type_valid_against_strict_provider_yaml_schema():
    strict = _airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]
    jsonschema.validate(get_provider_info()["connection-types"], strict)


def test_schema_check_can_fail():
    """Guard against a schema that accepts anything: a misspelt field must be rejected."""
    strict = _airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]
    broken = json.loads(json.dumps(get_provider_info()["connection-types"]))
    broken[0]["ui-field-behaviour"]["hidden_fields"] = ["port"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, strict)


def test_registered_through_entry_point():
    (ep,) = [
        ep
        for ep in entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_provider_annotation")
    ]
    info = ep.load()()
    assert info["package-name"] == "airflow-provider-annotation"


def test_connection_type_points_at_the_hook():
    (conn_type,) = get_provider_info()["connection-types"]
    module, _, cls = conn_type["hook-class-name"].rpartition(".")
    hook_cls = getattr(importlib.import_module(module), cls)
    assert hook_cls.conn_type == conn_type["connection-type"] == "annotation"
    assert hook_cls.default_conn_name == "annotation_default"
    assert hook_cls.conn_name_attr == "annotation_conn_id"
    assert set(conn_type["ui-field-behaviour"]["hidden-fields"]) == {"port", "schema"}
    assert conn_type["ui-field-behaviour"]["relabeling"] == {
        "host": "openAPI base URL",
        "login": "Access Key ID",
        "password": "Secret Key",
    }


def test_every_extra_the_hook_reads_is_declared_for_the_ui():
    from airflow_provider_annotation.hooks.config import EXTRA_KEYS

    (conn_type,) = get_provider_info()["connection-types"]
    assert set(conn_type["conn-fields"]) == set(EXTRA_KEYS)


def test_documented_defaults_and_version_match_the_code():
    """The UI help texts are literals (provider info stays a plain dict, cheap to load): keep
    them in step with the values the hook really uses."""
    from airflow_provider_annotation import __version__
    from airflow_provider_annotation.hooks import config

    info = get_provider_info()
    assert info["versions"][0] == __version__
    fields = info["connection-types"][0]["conn-fields"]
    timeout_help = f"connect {config.DEFAULT_CONNECT_TIMEOUT:g}, read {config.DEFAULT_READ_TIMEOUT:g}"
    assert timeout_help in fields["timeout"]["description"]
    assert f"(default {config.DEFAULT_MAX_ATTEMPTS})" in fields["max_attempts"]["description"]
    assert f"(default {config.DEFAULT_MAX_RETRY_WAIT:g})" in fields["max_retry_wait"]["description"]
    assert f"(default {config.DEFAULT_RETRY_BASE_DELAY:g})" in fields["retry_base_delay"]["description"]


def _non_null_types(schema: dict) -> list[str]:
    types = schema["type"]
    return [types] if isinstance(types, str) else [t for t in types if t != "null"]


def test_every_form_field_has_one_type_so_the_ui_picks_a_fitting_widget():
    """Airflow's form renders a field that allows several types as a free-text area; one type gives
    a number box for numbers and a switch for booleans."""
    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    types = {name: _non_null_types(field["schema"]) for name, field in fields.items()}
    assert all(len(t) == 1 for t in types.values()), types
    assert types["timeout"] == ["number"] and types["verify"] == ["boolean"]
    assert types["max_attempts"] == ["integer"] and types["allow_insecure_http"] == ["boolean"]


def test_what_the_form_stores_and_extra_json_forms_are_accepted_by_the_config():
    """The form stores single-type values; the richer forms stay available through Extra JSON."""
    from airflow.providers.common.compat.sdk import Connection

    from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig

    def config(**extra: object) -> AnnotationConnectionConfig:
        conn = Connection(
            conn_id="c",
            conn_type="annotation",
            host="https://p.example",
            login="ak",
            password="sk",
            extra=json.dumps(extra),
        )
        return AnnotationConnectionConfig.from_connection(conn)

    assert config(timeout=7.5, verify=False).verify is False
    assert config(timeout="7.5", verify="true").verify is True  # text boxes of Airflow < 3.2
    assert config(timeout={"connect": 2, "read": 30}, verify=__file__).verify == __file__


def test_airflow_3_2_plus_reads_the_form_from_provider_info_and_older_ones_from_the_hook():
    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.version_compat import AIRFLOW_V_3_2_PLUS

    legacy = {"get_connection_form_widgets", "get_ui_field_behaviour"}
    assert (legacy & set(AnnotationHook.__dict__)) == (set() if AIRFLOW_V_3_2_PLUS else legacy)


def test_legacy_field_behaviour_valid_against_this_airflows_schema():
    """The shape Airflow before 3.2 asks the hook for (snake_case keys), checked against the schema
    Airflow itself validates it with."""
    from airflow_provider_annotation.hooks.connection_form import field_behaviour

    schema = _airflow_schema("customized_form_field_behaviours.schema.json")
    behaviour = field_behaviour()
    jsonschema.validate(behaviour, schema)
    assert behaviour["relabeling"]["login"] == "Access Key ID"
    with pytest.raises(jsonschema.ValidationError):  # the provider-info (kebab-case) shape fails
        jsonschema.validate(get_provider_info()["connection-types"][0]["ui-field-behaviour"], schema)


def test_the_form_shows_the_api_version_the_hook_uses_when_none_is_picked():
    """The form's select starts at the default the hook applies, not at an empty (null) choice."""
    from airflow_provider_annotation.project import API_VERSIONS, DEFAULT_API_VERSION

    schema = get_provider_info()["connection-types"][0]["conn-fields"]["api_version"]["schema"]
    assert schema["default"] == DEFAULT_API_VERSION
    assert [v for v in schema["enum"] if v is not None] == list(API_VERSIONS)


# -- every hook, operator, sensor and trigger module is registered (issue 15) ---------------------


def _defined_kinds() -> dict[str, set[str]]:
    """Modules under hooks/, operators/, sensors/ and triggers/ (private ones, ``_x.py``, aside)
    that define a public hook, operator, sensor or trigger class, by the provider-info section
    they belong in."""
    import inspect
    import pkgutil

    from airflow.providers.common.compat.sdk import BaseHook, BaseOperator, BaseSensorOperator
    from airflow.triggers.base import BaseTrigger

    kinds = (
        ("sensors", BaseSensorOperator),
        ("operators", BaseOperator),
        ("hooks", BaseHook),
        ("triggers", BaseTrigger),
    )
    found: dict[str, set[str]] = {kind: set() for kind, _ in kinds}
    for package in ("hooks", "operators", "sensors", "triggers"):
        parent = importlib.import_module(f"airflow_provider_annotation.{package}")
        for info in pkgutil.iter_modules(parent.__path__, f"{parent.__name__}."):
            if info.name.rpartition(".")[2].startswith("_"):
                continue
            module = importlib.import_module(info.name)
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if name.startswith("_") or cls.__module__ != module.__name__:
                    continue
                kind = next((kind for kind, base in kinds if issubclass(cls, base)), None)
                if kind is not None:
                    found[kind].add(module.__name__)
    return found


def _registered(kind: str) -> set[str]:
    return {module for entry in get_provider_info().get(kind, []) for module in entry["python-modules"]}


@pytest.mark.parametrize("kind", ["hooks", "operators", "sensors", "triggers"])
def test_every_module_defining_a_hook_operator_sensor_or_trigger_is_registered(kind: str) -> None:
    defined = _defined_kinds()[kind]
    assert defined, f"the walk found no {kind}"
    assert defined <= _registered(kind), f"missing from get_provider_info()[{kind!r}]"


@pytest.mark.parametrize("kind", ["hooks", "operators", "sensors", "triggers"])
def test_every_registered_module_imports_and_defines_its_kind(kind: str) -> None:
    assert _registered(kind) <= _defined_kinds()[kind]
