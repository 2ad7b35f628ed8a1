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
