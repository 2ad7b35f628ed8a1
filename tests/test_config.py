"""The connection resolved into the hook's config: every field's rule, each bad value named."""

from __future__ import annotations

import json
import re
import socket
import subprocess

import pytest
from airflow.sdk import Connection

from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError, AnnotationUnavailableError
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from tests.helpers import AIRFLOW, connection_json


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


@pytest.mark.parametrize(
    "extra",
    [
        {"max_attempts": 3, "extra__annotation__max_attempts": 2},
        {"extra__annotation__api_version": "2024-08", "api_version": "2024-07"},
    ],
)
def test_one_field_twice_with_different_values_is_refused_naming_both_keys(extra):
    message = refused(extra=extra)
    (plain,) = [key for key in extra if not key.startswith("extra__")]
    assert f"'{plain}'" in message and f"'extra__annotation__{plain}'" in message
    assert "different values" in message


def test_one_field_twice_with_the_same_value_is_read():
    extra = {"max_attempts": 2, "extra__annotation__max_attempts": 2}
    assert AnnotationConnectionConfig.from_connection(conn(extra=extra)).retry.max_attempts == 2


# -- numbers: finite, bounded, never a bool ----------------------------------------------------

#: Every numeric extra, as (extra to set, the field name messages use).
NUMERIC_FIELDS = [
    (lambda v: {"timeout": v}, "extra 'timeout'"),
    (lambda v: {"timeout": {"connect": v}}, "extra 'timeout.connect'"),
    (lambda v: {"timeout": {"read": v}}, "extra 'timeout.read'"),
    (lambda v: {"max_attempts": v}, "extra 'max_attempts'"),
    (lambda v: {"max_retry_wait": v}, "extra 'max_retry_wait'"),
    (lambda v: {"retry_base_delay": v}, "extra 'retry_base_delay'"),
]


def refused(**kwargs) -> str:
    """The message of the config error `conn(**kwargs)` raises; it must name the connection."""
    with pytest.raises(AnnotationConnectionConfigError) as info:
        AnnotationConnectionConfig.from_connection(conn(**kwargs))
    message = str(info.value)
    assert message.startswith("connection 'annotation_default', ")
    return message


@pytest.mark.parametrize(("extra", "where"), NUMERIC_FIELDS)
@pytest.mark.parametrize(
    "value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", float("nan"), float("inf"), -float("inf")]
)
def test_non_finite_numbers_refused(extra, where, value):
    assert f"{where}: expected a finite number" in refused(extra=extra(value))


@pytest.mark.parametrize(("key", "literal"), [("max_retry_wait", "1e999"), ("timeout", "NaN")])
def test_non_finite_json_literals_refused(key, literal):
    # JSON text as a user writes it: Python's json reads 1e999 as inf and accepts NaN.
    raw = Connection(
        conn_id="annotation_default",
        conn_type="annotation",
        host="https://openapi.example.com",
        login="AK",
        password="s3cr3t-value",
        extra=f'{{"{key}": {literal}}}',
    )
    with pytest.raises(AnnotationConnectionConfigError, match=rf"extra '{key}': expected a finite number"):
        AnnotationConnectionConfig.from_connection(raw)


@pytest.mark.parametrize(
    ("extra", "where", "highest"),
    [
        (lambda v: {"timeout": v}, "extra 'timeout'", 600),
        (lambda v: {"timeout": {"connect": v}}, "extra 'timeout.connect'", 600),
        (lambda v: {"timeout": {"read": v}}, "extra 'timeout.read'", 600),
        (lambda v: {"max_attempts": v}, "extra 'max_attempts'", 20),
        (lambda v: {"max_retry_wait": v}, "extra 'max_retry_wait'", 3600),
        (lambda v: {"retry_base_delay": v}, "extra 'retry_base_delay'", 3600),
    ],
)
def test_upper_bounds(extra, where, highest):
    AnnotationConnectionConfig.from_connection(conn(extra=extra(highest)))  # the bound itself is fine
    assert f"{where}: must be at most {highest}, got {highest + 1}" in refused(extra=extra(highest + 1))
    assert f"{where}: must be at most {highest}" in refused(extra=extra(str(highest + 1)))


@pytest.mark.parametrize(("extra", "where"), NUMERIC_FIELDS)
def test_huge_integer_refused_briefly(extra, where):
    # No OverflowError converting it, and the message does not echo 400 digits.
    message = refused(extra=extra(10**400))
    assert f"{where}: must be at most" in message
    assert len(message) < 200


@pytest.mark.parametrize(("extra", "where"), NUMERIC_FIELDS)
@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_a_number(extra, where, value):
    assert f"{where}: expected a number, got bool" in refused(extra=extra(value))


def test_bounds_match_the_provider_info_schemas():
    from airflow_provider_annotation.get_provider_info import get_provider_info
    from airflow_provider_annotation.hooks import config

    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    assert fields["timeout"]["schema"]["maximum"] == config.MAX_TIMEOUT
    assert fields["max_attempts"]["schema"]["maximum"] == config.MAX_ATTEMPTS
    assert fields["max_retry_wait"]["schema"]["maximum"] == config.MAX_WAIT
    assert fields["retry_base_delay"]["schema"]["maximum"] == config.MAX_WAIT


# -- host and port -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("https://[::1", "malformed IPv6 address"),
        ("https://[::1]x/openapi", "malformed IPv6 address: nothing but ':port' may follow"),
        ("https://[not-an-ip]:8443", "malformed IPv6 address"),
        ("https://[12345::1]", "malformed IPv6 address"),
        ("https://::1:8443", "IPv6 address without brackets"),
        ("https://h.example.com:99999", "port that is not a number from 1 to 65535"),
        ("https://[::1]:65536", "port that is not a number from 1 to 65535"),
        ("https://h.example.com:0", "port that is not a number from 1 to 65535"),
        ("https://h.example.com:abc/openapi", "port that is not a number from 1 to 65535"),
        ("https://h.example.com:-1", "port that is not a number from 1 to 65535"),
        ("https://h.example.com:+443", "port that is not a number from 1 to 65535"),
        ("https://h.example.com:", "port that is not a number from 1 to 65535"),
        ("https://h.example.com:\u0663", "port that is not a number from 1 to 65535"),
        ("https://h example.com", "character 10 (U+0020) is a space or control character"),
        ("https://h.example.com\t/openapi", "(U+0009) is a space or control character"),
        ("https://h.example.com/open\napi", "(U+000A) is a space or control character"),
        ("https://h.example.com\x00", "(U+0000) is a space or control character"),
        ("https://h.exa\u200bmple.com", "(U+200B) is a space or control character"),
        ("https://h\\x.example.com", "character 10 is a backslash"),
        ("https://h.example.com\\@evil.example", "is a backslash"),
        ("https://:443/openapi", "has no host name"),
        ("https:///openapi", "has no host name"),
        ("https://h%41.example.com", "characters other than letters, digits"),
        ("https://h!.example.com", "characters other than letters, digits"),
        ("https://a..example.com", "empty label"),
        ("https://" + "a" * 64 + ".example.com", "over 63 characters"),
        ("https://\u2603.example", "not a valid internationalised domain name"),
        ("https:openapi.example.com", "is not an http:// or https:// URL"),
        ("mailto:x@example.com", "user:password@"),
    ],
)
def test_bad_host_refused(host, reason):
    message = refused(host=host)
    assert message.startswith("connection 'annotation_default', host: ")
    assert reason in message


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("https://[2001:db8::1]:8443/api", "https://[2001:db8::1]:8443/api"),
        ("https://b\u00fccher.example/openapi", "https://b\u00fccher.example/openapi"),
        ("https://my_host.internal:65535", "https://my_host.internal:65535"),
        ("  https://h.example.com/openapi/  ", "https://h.example.com/openapi"),
    ],
)
def test_good_hosts_accepted(host, base_url):
    assert AnnotationConnectionConfig.from_connection(conn(host=host)).base_url == base_url


PASSWORD = "pw-Very-Secret-42"


@pytest.mark.parametrize(
    "host",
    [
        f"https://user:{PASSWORD}@h.example.com/openapi",
        f"https://{PASSWORD}@h.example.com",
        "https://@h.example.com",
        f"https://user:{PASSWORD}@h.example.com:99999",
        # A '/' in the password moves the parser's idea of the host into the password.
        f"https://user:pw/{PASSWORD}@h.example.com/openapi",
        f"https://user:{PASSWORD}@[::1",
        f"https://user:{PASSWORD}@h.example.com/a b",
    ],
)
def test_credentials_in_host_refused_without_echo(host):
    message = refused(host=host)
    assert message.startswith("connection 'annotation_default', host: ")
    assert PASSWORD not in message and "//user" not in message


@pytest.mark.parametrize(
    ("port", "expected"),
    [(70000, "got 70000"), (0, "got 0"), (-1, "got -1"), (True, "got True"), ("abc", "got 'abc'")],
)
def test_bad_port_field_refused(port, expected):
    message = refused(host="https://h.example.com", port=port)
    assert "port: expected a number from 1 to 65535" in message and expected in message


# -- login and password ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("   ", "login: the Access Key ID is only whitespace"),
        ("\t\n", "login: the Access Key ID is only whitespace"),
        ("AK\r\nX-Injected: 1", "login: character 3 (U+000D) cannot be in an Access Key ID"),
        ("AK\x00", "login: character 3 (U+0000)"),
        ("AK\x7f", "login: character 3 (U+007F)"),
        ("A K", "login: character 2 (U+0020)"),
        ("AK\u00e9", "login: character 3 (U+00E9)"),
        ("AK\u4e2d", "login: character 3 (U+4E2D)"),
        ("AK\ud800", "login: character 3 (U+D800)"),
    ],
)
def test_bad_login_refused(login, reason):
    message = refused(login=login)
    assert reason in message
    assert "s3cr3t" not in message


def test_login_surrounding_whitespace_removed():
    assert AnnotationConnectionConfig.from_connection(conn(login="  AK-123\n")).access_key == "AK-123"


@pytest.mark.parametrize("password", ["p\u00e4ss w\u00f6rd \u4e2d\u6587", " lead&trail ", "tab\there\r\n"])
def test_any_text_is_a_secret(password):
    # The secret is only hashed as UTF-8, never sent, so every character it may hold works.
    from airflow_provider_annotation.signing import signature

    cfg = AnnotationConnectionConfig.from_connection(conn(password=password))
    assert cfg.secret_key == password
    assert len(signature(1, cfg.secret_key, cfg.access_key)) == 32


def test_secret_that_utf8_cannot_encode_refused_without_echo():
    message = refused(password="s3cr3t\udc80tail")
    assert "password: character 7 cannot be encoded as UTF-8" in message
    assert "s3cr3t" not in message and "tail" not in message


# -- proxies -----------------------------------------------------------------------------------


def test_proxy_credentials_kept_for_requests_but_never_shown():
    url = f"http://proxyuser:{PASSWORD}@proxy.example.com:3128"
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={"proxies": {"https": url}}))
    assert cfg.proxies == {"https": url}  # requests needs them to authenticate to the proxy
    for shown in (repr(cfg), str(cfg), repr(cfg.proxies), str(cfg.proxies), f"{cfg.proxies}"):
        assert PASSWORD not in shown and "proxyuser" not in shown
    assert "'https': 'http://***@proxy.example.com:3128'" in repr(cfg)


@pytest.mark.parametrize(
    ("proxies", "message"),
    [
        ({"https": "proxy.example.com:3128"}, r"extra 'proxies'.https: .* is not an http:// or https:// URL"),
        ({"https": "socks5://proxy.example.com:1080"}, r"extra 'proxies'.https: .* is not an http://"),
        (
            {"https": "http://proxy.example.com:99999"},
            r"extra 'proxies'.https: .* not a number from 1 to 65535",
        ),
        ({"all": "http://pro xy:3128"}, r"extra 'proxies'.all: .* space or control character"),
        ({"https": "http://[::1:3128"}, r"extra 'proxies'.https: .* malformed IPv6"),
        ({"https": "http://"}, r"extra 'proxies'.https: .* has no host name"),
        ({"http": "http://proxy.example.com:3128"}, r"extra 'proxies'.http: would never be used"),
        ({"htps": "http://proxy.example.com:3128"}, r"extra 'proxies': unknown key 'htps'; use 'https'"),
        ({"https": 3128}, r"extra 'proxies': expected an object"),
    ],
)
def test_bad_proxies_refused(proxies, message):
    assert re.search(message, refused(extra={"proxies": proxies}))


@pytest.mark.parametrize(
    "url",
    [
        f"http://proxyuser:{PASSWORD}@proxy.example.com:abc",
        f"http://proxyuser:{PASSWORD}@[::1",
        f"http://proxyuser:{PASSWORD}@pro xy:3128",
        f"proxyuser:{PASSWORD}@proxy.example.com:3128",
        f"http://proxyuser:pw/{PASSWORD}@proxy.example.com:3128",
        f"http://proxyuser:{PASSWORD}@proxy.example.com:3128/\\",
    ],
)
def test_bad_proxy_url_refused_without_echoing_credentials(url):
    message = refused(extra={"proxies": {"https": url}})
    assert message.startswith("connection 'annotation_default', extra 'proxies'.https: ")
    assert PASSWORD not in message and "proxyuser" not in message


# -- through the hook: what a person sees --------------------------------------------------------


def test_credentials_in_host_never_reach_test_connection_or_logs(emulator, make_hook, logs):
    host = emulator.url.replace("://", f"://user:{PASSWORD}@")
    ok, message = make_hook(host=host).test_connection()
    assert not ok
    assert "host: " in message and "user:password@" in message
    assert PASSWORD not in message and PASSWORD not in logs.text
    assert emulator.requests == []  # refused before anything was sent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_proxy_credentials_never_reach_errors_retry_warnings_or_logs(emulator, make_hook, logs):
    # The proxy refuses connections: the hook retries (a WARNING per retry) and then gives up.
    proxy = f"http://proxyuser:{PASSWORD}@127.0.0.1:{closed_port()}"
    hook = make_hook(proxies={"http": proxy}, max_attempts=3)
    with pytest.raises(AnnotationUnavailableError) as info:
        hook.request("POST", "/project/list", json={"status": 1, "dataType": 2, "offset": 1, "limit": 1})
    assert info.value.attempts == 3
    ok, message = hook.test_connection()
    assert not ok
    assert "WARNING" in logs.text or "warning" in logs.text  # the retries were logged
    for shown in (str(info.value), repr(info.value), message, logs.text, repr(hook.config)):
        assert PASSWORD not in shown and "proxyuser" not in shown
    assert emulator.requests == []  # nothing got past the proxy


def test_airflow_connections_test_never_shows_the_host_password(airflow_env, emulator):
    # The way an Airflow operator tests a connection; both the refusal and Airflow's own output.
    env = {
        **airflow_env,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_ANNOTATION_DEFAULT": connection_json(
            emulator.url.replace("://", f"://user:{PASSWORD}@")
        ),
    }
    done = subprocess.run(
        [AIRFLOW, "connections", "test", "annotation_default"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    output = done.stdout + done.stderr
    assert "host: " in output and "user:password@" in output
    assert PASSWORD not in output
    assert emulator.requests == []


# -- README promises found untested by a mutation audit ---------------------------------------


def test_total_timeout_defaults_to_connect_plus_read():
    """README: `timeout` default "connect 10 s, read 60 s, total connect + read"."""
    assert AnnotationConnectionConfig.from_connection(conn()).total_timeout == 70.0
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={"timeout": {"connect": 2, "read": 30}}))
    assert cfg.total_timeout == 32.0
    assert AnnotationConnectionConfig.from_connection(conn(extra={"timeout": 7.5})).total_timeout == 15.0
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={"timeout": {"read": 5, "total": 9}}))
    assert (cfg.connect_timeout, cfg.read_timeout, cfg.total_timeout) == (10.0, 5.0, 9.0)


@pytest.mark.parametrize(
    ("key", "where"),
    [("max_retry_wait", "extra 'max_retry_wait'"), ("retry_base_delay", "extra 'retry_base_delay'")],
)
def test_waits_are_from_zero(key, where):
    """README: `max_retry_wait` and `retry_base_delay` go from 0 (0: no waiting) to 3600."""
    cfg = AnnotationConnectionConfig.from_connection(conn(extra={key: 0}))
    assert (cfg.retry.max_retry_wait if key == "max_retry_wait" else cfg.retry.base_delay) == 0.0
    assert f"{where}: must be at least 0, got -1" in refused(extra={key: -1})
    assert f"{where}: must be at least 0, got -0.5" in refused(extra={key: "-0.5"})


def test_numbers_from_form_strings_are_read():
    """README: numbers are JSON numbers or strings holding one ("30", "7.5": forms store those)."""
    cfg = AnnotationConnectionConfig.from_connection(
        conn(
            extra={"timeout": {"connect": "7.5", "read": "30"}, "max_attempts": "3", "retry_base_delay": "0"}
        )
    )
    assert (cfg.connect_timeout, cfg.read_timeout, cfg.retry.max_attempts, cfg.retry.base_delay) == (
        7.5,
        30.0,
        3,
        0.0,
    )
    assert "extra 'max_attempts': expected a whole number, got 2.5" in refused(extra={"max_attempts": "2.5"})
