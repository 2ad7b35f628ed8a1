"""The connection resolved into the hook's config: every field's rule, each bad value named."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig


def conn(host="https://openapi.example.com/openapi", login="AK", password="s3cr3t-value", extra=None, **kw):
    return Connection(
        conn_id="annotation_default",
        conn_type="annotation",
        host=host,
        login=login,
        password=password,
        extra=json.dumps(extra) if extra is not None else None,
        **kw,
    )


def test_defaults():
    cfg = AnnotationConnectionConfig.from_connection(conn())
    assert cfg.base_url == "https://openapi.example.com/openapi"
    assert (cfg.access_key, cfg.secret_key) == ("AK", "s3cr3t-value")
    assert (cfg.connect_timeout, cfg.read_timeout) == (10.0, 60.0)
    assert cfg.verify is True and cfg.proxies is None
    assert (cfg.retry.max_attempts, cfg.retry.max_retry_wait, cfg.retry.base_delay) == (5, 60.0, 1.0)
    assert cfg.allow_insecure_http is False and cfg.retry.retry_ambiguous is False


def test_secret_not_in_repr():
    assert "SK-very-secret" not in repr(
        AnnotationConnectionConfig.from_connection(conn(password="SK-very-secret"))
    )


def test_extras_read():
    cfg = AnnotationConnectionConfig.from_connection(
        conn(
            extra={
                "timeout": {"connect": 2, "read": 30},
                "verify": False,
                "proxies": {"https": "http://proxy:3128"},
                "max_attempts": 3,
                "max_retry_wait": 10,
                "retry_base_delay": 0,
                "retry_ambiguous": True,
            }
        )
    )
    assert (cfg.connect_timeout, cfg.read_timeout) == (2.0, 30.0)
    assert cfg.verify is False
    assert cfg.proxies == {"https": "http://proxy:3128"}
    assert (cfg.retry.max_attempts, cfg.retry.max_retry_wait, cfg.retry.base_delay) == (3, 10.0, 0.0)
    assert cfg.retry.retry_ambiguous is True


def test_single_timeout_sets_both_phases():
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={"timeout": 7.5}))
    assert (cfg.connect_timeout, cfg.read_timeout) == (7.5, 7.5)


def test_trailing_slash_and_port_field_merged():
    cfg = AnnotationConnectionConfig.from_connection(conn(host="https://h.example.com/api/", port=8443))
    assert cfg.base_url == "https://h.example.com:8443/api"


def test_verify_ca_bundle_path(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert AnnotationConnectionConfig.from_connection(conn(extra={"verify": str(bundle)})).verify == str(
        bundle
    )


@pytest.mark.parametrize("host", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"])
def test_plain_http_to_loopback_allowed(host):
    assert AnnotationConnectionConfig.from_connection(conn(host=host)).base_url == host


def test_plain_http_elsewhere_needs_explicit_opt_in():
    with pytest.raises(AnnotationConnectionConfigError, match="host: plain http:// to 'openapi.example.com'"):
        AnnotationConnectionConfig.from_connection(conn(host="http://openapi.example.com"))
    cfg = AnnotationConnectionConfig.from_connection(
        conn(host="http://openapi.example.com", extra={"allow_insecure_http": True})
    )
    assert cfg.base_url == "http://openapi.example.com"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": ""}, r"host: the platform's base URL is empty"),
        ({"host": "openapi.example.com"}, r"host: 'openapi.example.com' is not an http:// or https:// URL"),
        ({"host": "ftp://x.example.com"}, r"is not an http:// or https:// URL"),
        ({"host": "https://x.example.com?a=1"}, r"cannot carry a query"),
        ({"login": ""}, r"login: the Access Key ID is empty"),
        ({"password": ""}, r"password: the Secret Key is empty"),
        ({"host": "https://h.example.com:1", "port": 2}, r"port: 2 contradicts"),
        ({"schema": "openapi"}, r"schema: is not used"),
        ({"extra": {"timout": 5}}, r"extra 'timout': unknown key; did you mean 'timeout'\?"),
        ({"extra": {"zzz": 5}}, r"extra 'zzz': unknown key; known keys"),
        ({"extra": {"timeout": "soon"}}, r"extra 'timeout': expected a number, got 'soon'"),
        ({"extra": {"timeout": 0}}, r"extra 'timeout': must be greater than 0 seconds, got 0"),
        ({"extra": {"timeout": {"connect": "x"}}}, r"extra 'timeout.connect': expected a number, got 'x'"),
        ({"extra": {"timeout": {"read": -1}}}, r"extra 'timeout.read': must be greater than 0 seconds"),
        ({"extra": {"timeout": {"connect": 1, "write": 2}}}, r"unknown keys \['write'\]"),
        ({"extra": {"max_attempts": 0}}, r"extra 'max_attempts': must be at least 1"),
        ({"extra": {"max_attempts": 2.5}}, r"expected a whole number"),
        ({"extra": {"max_attempts": True}}, r"extra 'max_attempts': expected a number, got bool"),
        (
            {"extra": {"verify": "/no/such/ca.pem"}},
            r"extra 'verify': CA bundle '/no/such/ca.pem' does not exist",
        ),
        ({"extra": {"verify": 3}}, r"extra 'verify': expected true, false or a CA-bundle path"),
        ({"extra": {"proxies": "http://p:1"}}, r"extra 'proxies': expected an object"),
        ({"extra": {"allow_insecure_http": "yes"}}, r"extra 'allow_insecure_http': expected true or false"),
    ],
)
def test_bad_values_name_the_field(kwargs, message):
    with pytest.raises(AnnotationConnectionConfigError, match=message) as info:
        AnnotationConnectionConfig.from_connection(conn(**kwargs))
    assert "annotation_default" in str(info.value)
    assert "s3cr3t" not in str(info.value)  # the secret is never echoed


def test_empty_form_values_mean_default():
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={"timeout": "", "verify": None}))
    assert (cfg.read_timeout, cfg.verify) == (60.0, True)


def test_legacy_prefixed_form_keys_read():
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={"extra__annotation__max_attempts": 2}))
    assert cfg.retry.max_attempts == 2
