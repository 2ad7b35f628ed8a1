#!/usr/bin/env bash
# The main job: start the bundled platform emulator, point an Airflow connection at it, and run
# the project-setup example DAG end to end with `airflow dags test`; prints the new workflow id.
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
export AIRFLOW_HOME="$(mktemp -d)"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__UNIT_TEST_MODE=False
export ANNOTATION_EMULATOR_ACCESS_KEY=demo-ak ANNOTATION_EMULATOR_SECRET_KEY=demo-sk
log="$AIRFLOW_HOME/emulator.log"
python -m airflow_provider_annotation.testing.emulator --port 0 >"$log" 2>&1 &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null; rm -rf "$AIRFLOW_HOME"' EXIT
for _ in $(seq 100); do grep -q "http://" "$log" && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$log" | head -n1)"
[ -n "$url" ] || { cat "$log"; echo "emulator did not start" >&2; exit 1; }
echo ">> emulator at $url"
export AIRFLOW_CONN_ANNOTATION_DEFAULT="{\"conn_type\": \"annotation\", \"host\": \"$url\", \"login\": \"demo-ak\", \"password\": \"demo-sk\"}"
airflow db migrate >/dev/null 2>&1
DAG_ID="${1:-annotation_project_setup}"
status=0
airflow dags test "$DAG_ID" >"$AIRFLOW_HOME/dag.log" 2>&1 || status=$?
# `airflow dags test` can exit 0 for a failed run: read the run's final state too.
if [ "$status" -eq 0 ] && grep -q "DagRun Finished: .*state=failed" "$AIRFLOW_HOME/dag.log"; then status=1; fi
# The provider's own lines: each call (method, endpoint, requestId, duration) and the outcome.
grep -E "requestId=|Workflow [0-9]+|workflow id|Dry run" "$AIRFLOW_HOME/dag.log" || true
if [ "$status" -ne 0 ]; then
  # Error lines only for a failed run: Airflow also logs some at error level on green runs.
  grep -E "\[error|Error:|Exception:" "$AIRFLOW_HOME/dag.log" || true
  tail -n 40 "$AIRFLOW_HOME/dag.log"
  echo "airflow dags test $DAG_ID failed (exit $status)" >&2
  exit "$status"
fi
python - "$url" <<'PY'
import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1] + "/_emulator/state"))
workflows = state["workflows"]
if not workflows:
    sys.exit("no workflow was created: see the DAG log above")
for wid, wf in workflows.items():
    pools = " -> ".join(p.get("name", "?") for p in wf["pools"])
    print(f"Created workflow id: {wid} in project {wf['projectId']} ({pools})")
PY
