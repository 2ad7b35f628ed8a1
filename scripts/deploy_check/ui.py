"""The connection form, and a deferred sensor's log, in a real browser: headless Chromium (the
system's) driven by playwright."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from deploy_check.checks import PROGRESS, Result, expect
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
#: Progress lines the deferred sensor's log page must show: one per poll of the trigger, at least two.
MIN_PROGRESS_LINES = 2
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
  if (role === 'switch' || type === 'checkbox') return 'switch';
  if (type === 'number' || role === 'spinbutton') return 'number';
  if (el.closest('.cm-editor, .monaco-editor') || el.classList.contains('cm-content')) return 'json';
  if (tag === 'textarea') return 'textarea';
  if (tag === 'input') return 'text (' + (type || 'text') + ')';
  return tag + (role ? '[' + role + ']' : '');
}"""


def test_in_ui(page, result: Result, shot: Path) -> tuple[int, str]:  # noqa: ANN001 - playwright Page
    """Click the connection's Test button in the list; the API's status and the toast the UI shows."""
    row = page.get_by_role("row").filter(has_text=CONNECTION_ID)
    with page.expect_response(re.compile(r".*/api/v2/connections/test$")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    sent = answer.value.request.post_data_json or {}
    toast = page.get_by_text(re.compile("Test Connection (Successful|Failed)")).first
    toast.wait_for()
    shown = " ".join(toast.locator("xpath=..").inner_text().split())
    result.say(
        f"Test in the UI (sent host {sent.get('host')!r}, port {sent.get('port')!r}): "
        f"HTTP {answer.value.status}, "
        f"the UI shows {shown[:200]!r}"
    )
    page.screenshot(path=str(shot))
    page.get_by_text(re.compile("Test Connection (Successful|Failed)")).first.wait_for(state="detached")
    return answer.value.status, answer.value.text() + " " + shown


CONTROLS = "input, textarea, select, [role=switch], [role=spinbutton], [contenteditable=true]"


def expand(page, section: str) -> None:  # noqa: ANN001 - playwright Page
    """Open one of the form's accordion sections (opening one may close the other)."""
    button = page.get_by_role("button", name=section, exact=True)
    if button.get_attribute("aria-expanded") != "true":
        button.click()


def connection_form(d: Deployment, result: Result) -> None:
    """Log in, open Admin -> Connections -> Add, pick the type, check the fields, Test, Save; then
    the deferred sensor's log page (`sensor_log`)."""
    from playwright.sync_api import sync_playwright

    shots = Path(d.report_dir)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.set_default_timeout(30_000)
        try:
            _run(d, result, page, shots)
            sensor_log(d, result, page, shots)
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
    expand(page, "Standard Fields")
    page.get_by_role("dialog").screenshot(path=str(shots / "connection-form-standard.png"))
    hidden = [name for name in ("Port", "Schema") if page.get_by_label(name, exact=True).count()]
    expect(not hidden, f"fields the provider hides are shown: {hidden}")
    result.say(f"standard fields labelled {', '.join(STANDARD.values())}; Port and Schema hidden")

    expand(page, "Extra Fields")
    poor = []
    for label, fitting in EXTRAS.items():
        # The field's group holds its label text and its control (not every control is labelled).
        group = page.get_by_role("group").filter(has=page.get_by_text(label, exact=True)).last
        control = group.locator(CONTROLS)
        try:
            control.first.wait_for(state="attached", timeout=10_000)  # code editors render late
        except PlaywrightTimeout:
            poor.append(f"{label}: not found")
            continue
        widget = control.first.evaluate(WIDGET_JS)
        if widget != fitting:
            poor.append(f"{label}: rendered as {widget}, fits a {fitting}")
    page.get_by_role("dialog").screenshot(path=str(shots / "connection-form.png"))
    result.say("screenshots: connection-form-standard.png, connection-form.png (the extras)")
    for line in poor:
        result.say(f"widget renders poorly: {line}")
    if not poor:
        result.say("every extra has a fitting widget (numbers: number boxes, booleans: switches)")
    result.figures["poor_widgets"] = len(poor)

    expand(page, "Standard Fields")
    standard["host"].fill(d.emulator_url)
    standard["login"].fill(ACCESS_KEY)
    standard["password"].fill(d.secret_key)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("dialog").wait_for(state="detached")
    saved = d.api.get_connection(CONNECTION_ID)
    expect(
        saved["conn_type"] == "annotation" and saved["host"] == d.emulator_url, f"saved connection: {saved}"
    )
    expect(saved.get("login") == ACCESS_KEY, f"saved login {saved.get('login')!r}")
    result.say(
        f"saved through the form; REST API reads it back: type {saved['conn_type']}, host {saved['host']}"
    )

    status, message = test_in_ui(page, result, shots / "connection-test.png")
    if status == 400 and "differs from the stored connection" in message:
        # Airflow 3.3.2's Test button sends port Number(null) == 0 for a connection without a port,
        # and the API takes 0 for another destination than the stored NULL (apache/airflow#73298,
        # fixed upstream). A port equal to the one in the URL is the workaround users have.
        port = int(d.emulator_url.rsplit(":", 1)[1])
        result.say(
            "Airflow 3.3.2 refuses Test for a connection without a port (its UI sends port 0; "
            f"apache/airflow#73298); workaround: the stored Port set to the URL's port {port} (REST API)"
        )
        d.api.set_connection_port(CONNECTION_ID, "annotation", port)
        page.reload()
        status, message = test_in_ui(page, result, shots / "connection-test.png")
    expect(status == 200 and "Successful" in message, f"Test in the UI did not succeed: {message[:500]}")
    if poor:
        raise CheckFailed(f"{len(poor)} extra field(s) render poorly (see above)")


def sensor_log(d: Deployment, result: Result, page, shots: Path) -> None:  # noqa: ANN001 - playwright Page
    """The finished deferred sensor's log page, as a user opens it: at least two progress lines (one
    per poll of the trigger) and no secret key; screenshot ``sensor-log.png``."""
    if d.deferred_sensor is None:
        result.say("sensor log: not looked at, no deferred sensor ran (run with --only deferral ui)")
        return
    dag_id, run_id, task_id, try_number = d.deferred_sensor
    path = f"/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}?try_number={try_number}"
    page.set_viewport_size({"width": 1280, "height": 900})  # the log is short: no blank half page
    page.goto(d.api_url + path)
    count_js = "needle => document.body.innerText.split(needle).length - 1"
    try:
        page.wait_for_function(f"({count_js})({PROGRESS!r}) >= {MIN_PROGRESS_LINES}", timeout=30_000)
    except PlaywrightTimeout:
        page.screenshot(path=str(shots / "sensor-log.png"))
        raise CheckFailed(
            f"the sensor's log page {path} shows {page.evaluate(count_js, PROGRESS)} line(s) with "
            f"{PROGRESS!r} after 30 s, expected at least {MIN_PROGRESS_LINES} (one per poll of the trigger); "
            "see sensor-log.png"
        ) from None
    text = page.locator("body").inner_text()
    expect(d.secret_key not in text, f"the sensor's log page {path} shows the connection's secret key")
    lines = [line.strip() for line in text.splitlines() if PROGRESS in line]
    page.keyboard.press("w")  # the log viewer's "wrap" hotkey: the whole line, not its start
    try:
        fits = "el => el.getBoundingClientRect().right <= window.innerWidth"
        page.wait_for_function(fits, arg=page.get_by_text(PROGRESS).last.element_handle(), timeout=5_000)
        wrapped = True
    except PlaywrightTimeout:  # a look only: the lines are there either way
        wrapped = False
    page.get_by_text(PROGRESS).first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "sensor-log.png"))
    result.say(
        f"the sensor's log page {path} shows {len(lines)} progress lines "
        f"({'wrapped' if wrapped else 'not wrapped'}), no secret key:"
    )
    for line in lines:
        result.say(f"  {line[:200]}")
    result.say("screenshot: sensor-log.png (the deferred sensor's log)")
