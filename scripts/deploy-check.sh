#!/usr/bin/env bash
# Proof in a production-shaped Airflow: PostgreSQL, Redis, the platform emulator, and Airflow's
# api-server, scheduler, dag-processor, triggerer and one Celery worker, as separate processes on
# loopback; the provider installed from its wheel. Driven through the REST API v2 and a headless
# browser; see "Running in a real deployment" in CONTRIBUTING.md. Arguments go to the driver
# (e.g. --only run ui, --keep).
set -euo pipefail
# All in one function, read whole before it runs: editing this file meanwhile cannot break a run.
main() {
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  VENV="${DEPLOY_CHECK_VENV:-$ROOT/.deploy-venv}"
  PYTHON="${PYTHON:-python3}"
  REPORTS="${DEPLOY_CHECK_REPORTS:-$ROOT/.deploy-check}"
  unset PYTHONPATH
  started=$(date +%s)
  say() { echo ">> $*"; }
  sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

  # --- system packages: PostgreSQL, Redis, Chromium ------------------------------------------------
  missing=()
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v chromium >/dev/null || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} from the system's packages"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  t_apt=$(( $(date +%s) - started ))

  # --- Airflow 3.3.2 with the Celery executor, through the project's constraints file --------------
  CONSTRAINTS="$ROOT/constraints/airflow-3.3.2-py3.11.txt"
  pip_quiet() {  # (this machine's pip mirrors print one harmless "Location ... is ignored" line per package)
    "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 \
      | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    return "${PIPESTATUS[0]}"
  }
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
    echo '*' >"$VENV/.gitignore"
  fi
  stamp="$VENV/.installed-$(cksum <"$CONSTRAINTS" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ]; then
    say "installing Airflow 3.3.2 with the Celery executor, PostgreSQL driver and playwright into $VENV"
    pip_quiet install --quiet -c "$CONSTRAINTS" "apache-airflow[celery,postgres]==3.3.2" "celery[redis]" playwright
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
  t_venv=$(( $(date +%s) - started - t_apt ))

  # --- this package, the way a user installs it: a wheel (not editable), through the constraints ---
  wheels="$(mktemp -d)"
  trap 'rm -rf "$wheels"' EXIT
  say "building the provider's wheel"
  pip_quiet wheel --quiet --no-deps -w "$wheels" "$ROOT"
  rm -rf "$ROOT/build"  # setuptools' leftovers in the work tree
  wheel="$(ls "$wheels"/*.whl)"
  pip_quiet uninstall --quiet --yes airflow-provider-annotation
  pip_quiet install --quiet -c "$CONSTRAINTS" "$wheel"
  t_wheel=$(( $(date +%s) - started - t_apt - t_venv ))
  installs="system packages ${t_apt} s, virtualenv ${t_venv} s, wheel built and installed ${t_wheel} s"
  say "installed $(basename "$wheel") ($installs)"

  # --- the deployment and its checks (the driver stops everything it started, by PID) --------------
  mkdir -p "$REPORTS"
  [ -f "$REPORTS/.gitignore" ] || echo '*' >"$REPORTS/.gitignore"  # reports stay out of git
  cd "$(mktemp -d)"  # nothing from the repository on the driver's import path but the driver itself
  driver_dir="$PWD"
  stop_leftovers() {
    # The driver stops what it started; if it was itself killed, stop its process groups here, by PID.
    if [ -f "$driver_dir/pids" ]; then
      while read -r pid name; do
        if kill -0 "$pid" 2>/dev/null; then
          echo ">> stopping leftover $name (pid $pid)"
          kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        fi
      done <"$driver_dir/pids"
    fi
    rm -rf "$wheels" "$driver_dir"
  }
  trap stop_leftovers EXIT
  status=0
  PYTHONPATH="$ROOT/scripts" "$VENV/bin/python" -m deploy_check --root "$ROOT" --report-dir "$REPORTS" \
    --pid-file "$driver_dir/pids" --install-timings "$installs" "$@" || status=$?
  say "deploy-check took $(( $(date +%s) - started )) s in all"
  exit "$status"
}
main "$@"
