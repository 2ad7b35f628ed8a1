"""AnnotationHook: signed calls to the annotation platform's Open API, envelope unwrapped.

Callers get the envelope's `data` or a typed error from `airflow_provider_annotation.exceptions`;
nobody above this module handles HTTP, signatures or JSON envelopes.
"""

from __future__ import annotations

import dataclasses
import re
import time
from functools import cached_property
from typing import Any

import requests
import tenacity
from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_annotation import __version__
from airflow_provider_annotation.codes import PlatformCode, describe
from airflow_provider_annotation.endpoints import CREATE_WORKFLOW, PROJECT_LIST
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationClockSkewError,
    AnnotationError,
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
    AnnotationUnavailableError,
    error_class_for_code,
)
from airflow_provider_annotation.hooks import connection_form
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from airflow_provider_annotation.hooks.retry import (
    RetryPolicy,
    is_expired_signature,
    parse_retry_after,
    retrying,
)
from airflow_provider_annotation.signing import SIGNATURE_HEADER, signed_headers
from airflow_provider_annotation.version_compat import AIRFLOW_V_3_2_PLUS
from airflow_provider_annotation.workflow import create_workflow_body

#: HTTP statuses that mean "busy, come back later": the platform did not act.
_BUSY_STATUSES = frozenset({429, 503})
#: Gateway statuses that may hide an answer: the platform may have acted.
_GATEWAY_STATUSES = frozenset({502, 504})
_SNIPPET_CHARS = 200


class AnnotationHook(BaseHook):
    """Talks to the annotation platform with the access-key pair of one Airflow connection.

    Host is the platform's openAPI base URL, Login the Access Key ID, Password the Secret Key.
    The connection is read once, on first use (never at DAG parse time), and one HTTP session is
    kept per hook for keep-alive. Use one hook per thread, as with a `requests.Session`.

    :param annotation_conn_id: the Airflow connection to use.
    """

    conn_name_attr = "annotation_conn_id"
    default_conn_name = "annotation_default"
    conn_type = "annotation"
    hook_name = "Annotation Platform"
    #: How the hook waits between attempts; tests swap in a recorder to read the waits.
    _sleep = staticmethod(time.sleep)

    def __init__(self, annotation_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.annotation_conn_id = annotation_conn_id
        self._session: requests.Session | None = None
        self._controllers: dict[tuple[str, RetryPolicy], tenacity.Retrying] = {}

    # -- connection and session -------------------------------------------------------------

    @cached_property
    def config(self) -> AnnotationConnectionConfig:
        """The connection, resolved and checked once."""
        return AnnotationConnectionConfig.from_connection(self.get_connection(self.annotation_conn_id))

    def get_conn(self) -> requests.Session:
        """The hook's one `requests.Session`, made on first use."""
        if self._session is None:
            self._session = requests.Session()
            self._session.headers["User-Agent"] = _user_agent()
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> AnnotationHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- calls -------------------------------------------------------------------------------

    def request(
        self, method: str, endpoint: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Send a signed request and return the envelope's `data`; raise a typed error otherwise.

        Retries follow `hooks.retry`: each attempt is signed afresh.
        """
        return self._call(method, endpoint, json=json, params=params)[0]

    def create_workflow(self, project_id: int, pools: list[dict[str, Any]] | None = None) -> int:
        """Create a workflow in `project_id` and return its `workflowId`.

        `pools` is checked against every documented rule before anything is sent. With `pools`
        None the body carries no `workflow` at all, and the platform applies its default.
        """
        return self.send_create_workflow(create_workflow_body(project_id, pools))

    def send_create_workflow(self, body: dict[str, Any]) -> int:
        """Send a Create Workflow body as `workflow.create_workflow_body` builds it (already
        checked) and return the new `workflowId`."""
        data, request_id = self._call(CREATE_WORKFLOW.method, CREATE_WORKFLOW.path, json=body)
        workflow_id = data.get("workflowId") if isinstance(data, dict) else None
        if isinstance(workflow_id, bool) or not isinstance(workflow_id, int):
            raise AnnotationMayHaveTakenEffectError(
                f"the platform reported success but no integer workflowId (data={data!r}); "
                "the workflow may exist: check the project before re-running",
                code=PlatformCode.SUCCESS,
                request_id=request_id,
                endpoint=CREATE_WORKFLOW.path,
                method="POST",
            )
        return workflow_id

    def test_connection(self) -> tuple[bool, str]:
        """One cheap, read-only signed call (list one project); a message a person can act on.

        Two attempts at most, so an expired signature is re-signed once and persistent expiry reads
        as clock skew, without making the person at the UI wait through the full retry budget.
        """
        try:
            cfg = self.config
            quick = dataclasses.replace(cfg.retry, max_attempts=2, max_retry_wait=5.0, retry_ambiguous=False)
            self._call(PROJECT_LIST.method, PROJECT_LIST.path, json={"offset": 1, "limit": 1}, policy=quick)
        except AnnotationClockSkewError as err:
            return False, f"Signature expired although freshly signed: this machine's clock is off ({err})"
        except AnnotationApiError as err:
            return False, _advice(err, self.config) + f" ({err})"
        except AnnotationError as err:  # configuration problems
            return False, str(err)
        finally:
            self.close()  # Airflow's connection test never closes the hook
        return True, f"Connected to {cfg.base_url} with Access Key ID {cfg.access_key!r}."

    # -- one call, one attempt ----------------------------------------------------------------

    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        policy: RetryPolicy | None = None,
    ) -> tuple[Any, str | None]:
        method = method.upper()
        if not endpoint.startswith("/"):
            endpoint = "/" + endpoint
        attempts = 0
        expired_before = False

        def attempt() -> tuple[Any, str | None]:
            nonlocal attempts, expired_before
            attempts += 1
            try:
                return self._send_once(method, endpoint, json, params, attempts)
            except AnnotationApiError as err:
                if is_expired_signature(err):
                    if expired_before:
                        raise AnnotationClockSkewError(
                            "signature expired again on a freshly signed retry: this machine's clock "
                            "is probably off from the platform's (check NTP)",
                            code=err.code,
                            request_id=err.request_id,
                            http_status=err.http_status,
                            endpoint=endpoint,
                            method=method,
                        ) from err
                    expired_before = True
                raise

        controller = self._retrying(method, policy or self.config.retry)
        try:
            return controller(attempt)
        except AnnotationApiError as err:
            err.attempts = attempts
            raise

    def _retrying(self, method: str, policy: RetryPolicy) -> tenacity.Retrying:
        """The tenacity controller for `method` under `policy`, built once per hook."""
        key = (method, policy)
        if key not in self._controllers:
            self._controllers[key] = retrying(
                method, policy, before_sleep=self._log_retry, sleep=lambda seconds: self._sleep(seconds)
            )
        return self._controllers[key]

    def _send_once(
        self, method: str, endpoint: str, json: Any, params: dict[str, Any] | None, attempt: int
    ) -> tuple[Any, str | None]:
        cfg = self.config
        headers = signed_headers(cfg.access_key, cfg.secret_key)
        where: dict[str, Any] = {"endpoint": endpoint, "method": method}
        started = time.monotonic()
        try:
            response = self.get_conn().request(
                method,
                cfg.base_url + endpoint,
                json=json,
                params=params,
                headers=headers,
                timeout=(cfg.connect_timeout, cfg.read_timeout),
                # Per request, so the connection's settings win over REQUESTS_CA_BUNDLE / *_PROXY.
                verify=cfg.verify,
                proxies=cfg.proxies,
                # A redirect would carry the signed headers to another host (requests strips only
                # Authorization) and turn the POST into a GET: refuse it, see _unwrap.
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise AnnotationApiError(
                f"TLS handshake with {cfg.base_url} failed ({_reason(exc)}); check the 'verify' extra",
                **where,
            ) from None
        except requests.exceptions.ReadTimeout:
            raise AnnotationMayHaveTakenEffectError(
                f"no answer within {cfg.read_timeout:g} s (read timeout) after the request was sent; "
                "the platform may have acted",
                **where,
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            raise AnnotationMayHaveTakenEffectError(
                f"the answer broke off while it was being read ({_reason(exc)}); the platform may have acted",
                **where,
            ) from None
        except requests.exceptions.ConnectionError as exc:  # also ConnectTimeout and ProxyError
            if _never_connected(exc):
                raise AnnotationUnavailableError(
                    f"could not connect to {cfg.base_url}: {_reason(exc)}", **where
                ) from None
            raise AnnotationMayHaveTakenEffectError(
                f"connection dropped after the request was sent ({_reason(exc)}); "
                "the platform may have acted",
                **where,
            ) from None
        except requests.exceptions.RequestException as exc:
            # What is left fails before sending (an invalid URL or header, a body that is not JSON).
            raise AnnotationApiError(f"the request could not be sent: {_reason(exc)}", **where) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        envelope = _envelope(response)
        self.log.info(
            "%s %s -> HTTP %s, code %s, requestId=%s, %.1f ms (attempt %d)%s",
            method,
            endpoint,
            response.status_code,
            envelope["code"] if envelope else "-",
            (envelope and envelope.get("requestId")) or "-",
            elapsed_ms,
            attempt,
            _ids_of(envelope),
        )
        return _unwrap(
            response, envelope, method, endpoint, secrets=(cfg.secret_key, headers[SIGNATURE_HEADER])
        )

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.log.warning(
            "Attempt %d failed (%s); sending again in %.2f s", state.attempt_number, exc, state.upcoming_sleep
        )

    # -- the connection form before Airflow 3.2 (3.2+ reads it from the provider info) --------

    if not AIRFLOW_V_3_2_PLUS:

        @classmethod
        def get_connection_form_widgets(cls) -> dict[str, Any]:
            return connection_form.form_widgets()

        @classmethod
        def get_ui_field_behaviour(cls) -> dict[str, Any]:
            return connection_form.field_behaviour()


def _ids_of(envelope: dict[str, Any] | None) -> str:
    """The ids a successful answer carries (``workflowId=18000``), for the call's log line, so the
    new object and its requestId stand on one line."""
    data = envelope.get("data") if envelope and envelope.get("success") is True else None
    if not isinstance(data, dict):
        return ""
    ids = [f"{key}={value}" for key, value in data.items() if key.endswith("Id") and isinstance(value, int)]
    return ": " + ", ".join(ids) if ids else ""


def _envelope(response: requests.Response) -> dict[str, Any] | None:
    """The platform's JSON envelope, or None when the body is something else."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and "code" in body and "success" in body:
        return body
    return None


def _unwrap(
    response: requests.Response,
    envelope: dict[str, Any] | None,
    method: str,
    endpoint: str,
    secrets: tuple[str, ...],
) -> tuple[Any, str | None]:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    where: dict[str, Any] = {"endpoint": endpoint, "method": method, "http_status": status}
    if response.is_redirect:
        raise AnnotationResponseError(
            f"HTTP {status} redirect to {response.headers.get('Location')!r}, not followed (the signed "
            "headers would go along); set the connection's Host to the final base URL",
            **where,
        )
    if envelope is None:
        snippet = _snippet(response.text, secrets)
        if status in _BUSY_STATUSES or status == 500:
            raise AnnotationUnavailableError(
                f"platform busy or failing (HTTP {status}); body: {snippet}", retry_after=retry_after, **where
            )
        if 200 <= status < 300 or status in _GATEWAY_STATUSES:
            raise AnnotationMayHaveTakenEffectError(
                f"HTTP {status} with a body that is not the platform's JSON envelope, so the outcome is "
                f"unknown and the platform may have acted; body: {snippet}",
                **where,
            )
        raise AnnotationResponseError(
            f"HTTP {status} with a body that is not the platform's JSON envelope "
            f"(is the base URL right?); body: {snippet}",
            **where,
        )
    code = envelope.get("code")
    request_id = envelope.get("requestId") or None
    if envelope.get("success") is True and code == PlatformCode.SUCCESS:
        return envelope.get("data"), request_id
    message = str(envelope.get("message") or describe(code))
    where.update(code=code, request_id=request_id)
    cls = AnnotationUnavailableError if status in _BUSY_STATUSES else error_class_for_code(code)
    raise cls(message, retry_after=retry_after, **where)


def _snippet(text: str, secrets: tuple[str, ...]) -> str:
    """A short, single-line excerpt of a body, with anything secret blanked (a proxy page might
    echo request headers back)."""
    text = re.sub(r"\s+", " ", text or "").strip()
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    if not text:
        return "(empty)"
    return repr(text[:_SNIPPET_CHARS] + ("..." if len(text) > _SNIPPET_CHARS else ""))


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout, proxy)."""
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _reason(exc: BaseException) -> str:
    """The innermost cause's text, without urllib3's long wrapper."""
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    return str(reason)[:_SNIPPET_CHARS]


def _advice(err: AnnotationApiError, cfg: AnnotationConnectionConfig) -> str:
    advice: dict[Any, str] = {
        PlatformCode.WRONG_SIGNATURE: "Wrong signature: the Secret Key (Password) does not belong to "
        f"Access Key ID {cfg.access_key!r}.",
        PlatformCode.AUTHENTICATION_FAILED: f"Authentication failed: Access Key ID {cfg.access_key!r} is "
        "unknown or disabled.",
    }
    if err.code in advice:
        return advice[err.code]
    if isinstance(err, AnnotationUnavailableError) and err.code is None and err.http_status is None:
        return f"Platform unreachable at {cfg.base_url}: check Host and the network."
    if isinstance(err, AnnotationResponseError):
        return f"{cfg.base_url} did not answer like the platform: check Host (the openAPI base URL)."
    return "The platform refused the test call."


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        airflow_version = version("apache-airflow")
    except PackageNotFoundError:  # pragma: no cover - airflow-core only installs
        airflow_version = "unknown"
    return (
        f"airflow-provider-annotation/{__version__} apache-airflow/{airflow_version} "
        f"requests/{requests.__version__}"
    )
