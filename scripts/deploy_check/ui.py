"""The connection form in a real browser: headless Chromium through playwright."""

from __future__ import annotations

from deploy_check.checks import Result, Skipped
from deploy_check.deployment import Deployment


def connection_form(d: Deployment, result: Result) -> None:
    raise Skipped("not written yet")
