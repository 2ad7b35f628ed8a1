"""The connection form in a real browser: headless Chromium (the system's) driven by playwright."""

from __future__ import annotations

import re
from pathlib import Path

from deploy_check.checks import Result, expect
from deploy_check.deployment import ACCESS_KEY, Deployment
from deploy_check.processes import CheckFailed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
CONNECTION_ID = "annotation_ui"
#: The provider's relabelled standard fields.
STANDARD = {"host": "openAPI base URL", "login": "Access Key ID", "password": "Secret Key"}
#: Extra fields by label, and the widget that fits their values.
EXTRAS = {
    "Timeout (seconds)": "number",
    "Verify TLS": "switch",
    "Proxies": "json",
    "Max attempts": "number",
    "Max total retry wait (seconds)": "number",
    "Retry base delay (seconds)": "number",
    "Allow plain http://": "switch",
    "Re-send ambiguous requests": "switch",
}
#: What a rendered control is, from its tag, type and role.
WIDGET_JS = """el => {
  const tag = el.tagName.toLowerCase(), type = (el.getAttribute('type') || '').toLowerCase();
  const role = (el.getAttribute('role') || '').toLowerCase();
  if (role === 'switch' || type === 'checkbox' || el.closest('[data-part="root"][data-scope="switch"]')) return 'switch';
  if (type === 'number' || role === 'spinbutton' || el.getAttribute('inputmode') === 'decimal') return 'number';
  if (el.closest('.cm-editor, .monaco-editor') || el.classList.contains('cm-content')) return 'json';
  if (tag === 'textarea') return 'textarea';
  if (tag === 'input') return 'text (' + (type || 'text') + ')';
  return tag + (role ? '[' + role + ']' : '');
}"""


def connection_form(d: Deployment, result: Result) -> None:
    """Log in, open Admin -> Connections -> Add, pick the type, check the fields, Test, Save."""
    from playwright.sync_api import sync_playwright

    shots = Path(d.report_dir)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.set_default_timeout(30_000)
        try:
            _run(d, result, page, shots)
        except Exception:
            page.screenshot(path=str(shots / "ui-failure.png"), full_page=True)
            (shots / "ui-failure.aria.yaml").write_text(page.locator("body").aria_snapshot())
            raise
        finally:
            browser.close()


def _run(d: Deployment, result: Result, page, shots: Path) -> None:  # noqa: ANN001 - playwright Page
    page.goto(d.api_url + "/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(d.admin_password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"))
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    page.wait_for_url(re.compile(r".*/connections.*"))
    page.get_by_role("button", name="Add Connection").click()
    result.say("logged in with the simple auth manager; opened Admin -> Connections -> Add Connection")

    page.get_by_label("Connection ID").fill(CONNECTION_ID)
    page.get_by_role("combobox").first.click()
    page.keyboard.type("Annotation Platform")
    page.get_by_role("option", name="Annotation Platform").click()
    standard = {}
    for field, label in STANDARD.items():
        control = page.get_by_label(label, exact=True)
        expect(control.count() == 1, f"no field labelled {label!r} for {field}")
        standard[field] = control
    hidden = [name for name in ("Port", "Schema") if page.get_by_label(name, exact=True).count()]
    expect(not hidden, f"fields the provider hides are shown: {hidden}")
    result.say(f"standard fields labelled {', '.join(STANDARD.values())}; Port and Schema hidden")

    extra_section = page.get_by_text("Extra Fields", exact=True)
    if extra_section.count():
        extra_section.first.click()
    poor = []
    for label, fitting in EXTRAS.items():
        control = page.get_by_label(label, exact=True)
        if control.count() == 0:
            poor.append(f"{label}: not found")
            continue
        widget = control.first.evaluate(WIDGET_JS)
        if widget != fitting:
            poor.append(f"{label}: rendered as {widget}, fits a {fitting}")
    page.screenshot(path=str(shots / "connection-form.png"), full_page=True)
    result.say(f"screenshot: {shots / 'connection-form.png'}")
    for line in poor:
        result.say(f"widget renders poorly: {line}")
    if not poor:
        result.say("every extra has a fitting widget (numbers: number boxes, booleans: switches)")
    result.figures["poor_widgets"] = len(poor)

    standard["host"].fill(d.emulator_url)
    standard["login"].fill(ACCESS_KEY)
    standard["password"].fill(d.secret_key)
    page.get_by_role("button", name="Test Connection").click()
    outcome = page.get_by_text(re.compile("Test Connection (Successful|Failed)"))
    outcome.first.wait_for()
    message = outcome.first.inner_text()
    result.say(f"Test in the UI: {message}")
    expect("Successful" in message, f"Test in the UI did not succeed: {page.locator('body').inner_text()[:500]}")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("dialog").wait_for(state="detached")
    saved = d.api.get_connection(CONNECTION_ID)
    expect(saved["conn_type"] == "annotation" and saved["host"] == d.emulator_url, f"saved connection: {saved}")
    expect(saved.get("login") == ACCESS_KEY, f"saved login {saved.get('login')!r}")
    result.say(f"saved through the form; REST API reads it back: type {saved['conn_type']}, host {saved['host']}")
    if poor:
        raise CheckFailed(f"{len(poor)} extra field(s) render poorly (see above)")
