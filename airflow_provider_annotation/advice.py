"""What a person should fix after a failed call, in one place: the connection test and every task
error (sync and async hooks) say the same thing.

`advice_for` maps an error to one sentence, or None when there is nothing better to say than the
error itself. It is a plain function of the error and the connection's public parts (base URL and
Access Key ID, never the secret), so other hints can be composed with it. Pure: no Airflow, no HTTP.
"""

from __future__ import annotations

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.exceptions import AnnotationApiError, AnnotationClockSkewError
from airflow_provider_annotation.urls import redact_url

__all__ = ["advice_for"]


def advice_for(err: AnnotationApiError, *, base_url: str, access_key: str) -> str | None:
    """The fix for `err`, naming the connection field to check; None when the error says enough."""
    if isinstance(err, AnnotationClockSkewError):
        return "Signature expired although freshly signed: this machine's clock is off; sync it (NTP)."
    if err.code == PlatformCode.WRONG_SIGNATURE:
        return f"Wrong signature: the Secret Key (Password) does not belong to Access Key ID {access_key!r}."
    if err.code == PlatformCode.AUTHENTICATION_FAILED:
        return f"Authentication failed: Access Key ID {access_key!r} is unknown or disabled."
    if err.http_status == 404:
        path = err.endpoint or "this endpoint"
        return (
            f"{redact_url(base_url)} has no {path} (HTTP 404, not found): check the base URL in Host, "
            "including its path (e.g. https://host/openapi)."
        )
    return None
