#!/usr/bin/env bash
# Proof per Airflow version: one virtualenv per lane (the latest 2.11.x, 3.0.x, 3.1.x, 3.2.x and
# 3.3.2), each installed through that version's constraints file, then the lane's subset of the
# suite: import and provider registration (`airflow providers get`), the hook against the emulator,
# and every example DAG through that version's `airflow dags test`. Prints a table: lane, result,
# duration; any failing lane fails the script.
# Usage: bash scripts/compat.sh [LANE...]   e.g. bash scripts/compat.sh 2.11.2
#   COMPAT_JOBS=2  lanes run at a time (default 2, the machine's core count)
#   COMPAT_DIR     where lane venvs and logs live (default .compat/ in the repository)
# A lane's venv is reused while its constraints file and pyproject.toml are unchanged (checksum
# stamp); the package is installed editable, so code changes need no reinstall.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
DIR="${COMPAT_DIR:-$ROOT/.compat}"
JOBS="${COMPAT_JOBS:-2}"
ALL_LANES=(2.11.2 3.0.6 3.1.8 3.2.2 3.3.2)
# Packages one lane adds (pinned in its constraints file): the 3.2.2 lane runs the example DAGs with
# the OpenLineage provider, proving the export's lineage; the other lanes prove it skipped cleanly.
lane_extras() { [ "$1" = "3.2.2" ] && echo "apache-airflow-providers-openlineage" || true; }

lane_body() {  # lane_body VERSION: install the lane's venv if needed, then run its tests
  local version="$1" venv="$DIR/venv-$1" constraints="$ROOT/constraints/airflow-$1-py3.11.txt" stamp home
  [ -f "$constraints" ] || { echo "no constraints file $constraints"; return 1; }
  local extras
  read -r -a extras <<<"$(lane_extras "$version")"
  stamp="$venv/.installed-$( { cat "$constraints" "$ROOT/pyproject.toml"; echo "${extras[*]}"; } | cksum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ]; then
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv" || return 1
    echo ">> installing Airflow $version"
    local t0=$SECONDS
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "apache-airflow==$version" -e "$ROOT[test]" "${extras[@]}" -c "$constraints" 2>&1 \
      | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "install failed"; return 1; }
    echo ">> installed in $((SECONDS - t0)) s"
    touch "$stamp"
  fi
  home="$(mktemp -d)"
  cd "$ROOT" || return 1
  local status=0
  AIRFLOW_HOME="$home" AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__UNIT_TEST_MODE=False \
    PYTHONPATH="$ROOT" NO_COLOR=1 ANNOTATION_COMPAT_LANE=1 \
    "$venv/bin/python" -m pytest -p no:cacheprovider -q -n 0 tests/compat || status=$?
  rm -rf "$home"
  return "$status"
}

run_lane() {  # run_lane VERSION: one lane, its output in $DIR/VERSION.log; writes $DIR/VERSION.result
  local version="$1" start status=0
  start=$(date +%s)
  lane_body "$version" >"$DIR/$version.log" 2>&1 || status=$?
  echo "$( [ "$status" -eq 0 ] && echo pass || echo FAIL ) $(($(date +%s) - start))" >"$DIR/$version.result"
  echo ">> lane $version: $(cat "$DIR/$version.result") s (log: $DIR/$version.log)"
}

if [ "${1:-}" = "--lane" ]; then
  run_lane "$2"
  exit 0
fi

lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || lanes=("${ALL_LANES[@]}")
mkdir -p "$DIR"
for lane in "${lanes[@]}"; do rm -f "$DIR/$lane.result"; done
started=$(date +%s)
printf '%s\n' "${lanes[@]}" | xargs -P "$JOBS" -I{} bash "$0" --lane {}
wall=$(( $(date +%s) - started ))

failed=0
printf '\n%-8s | %-6s | %s\n' "Airflow" "result" "duration"
printf -- '---------+--------+---------\n'
for lane in "${lanes[@]}"; do
  read -r result secs <"$DIR/$lane.result" 2>/dev/null || { result=FAIL; secs=?; }
  printf '%-8s | %-6s | %s s\n' "$lane" "$result" "$secs"
  if [ "$result" != pass ]; then
    failed=1
    echo "---- last lines of $DIR/$lane.log" >&2
    tail -n 30 "$DIR/$lane.log" >&2 || true
  fi
done
echo "all lanes: ${wall} s wall, ${JOBS} at a time"
exit "$failed"
