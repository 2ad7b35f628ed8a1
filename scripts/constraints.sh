#!/usr/bin/env bash
# Regenerates constraints/airflow-<version>-py3.11.txt: installs Airflow <version> with this
# package's dependencies and tools into a fresh virtualenv, checks that it imports, and freezes it.
# Usage: bash scripts/constraints.sh 3.3.2 [3.2.2 ...]   (Python 3.11; about 1-3 min per version)
# The 3.3.2 file also pins what the deployment check installs: the Celery and Postgres extras,
# celery 5.6.3 (5.7.0 breaks the Celery executor), the http provider and playwright, and the docs
# build (Sphinx, myst-parser, furo: the [docs] extra; Sphinx 9.0 holds docutils below 0.23).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
# Tools every lane's tests use; the [test]/[testing] extras of pyproject.toml name the same ones.
TOOLS=(pytest pytest-xdist hypothesis jsonschema ruff mypy build twine "fastapi>=0.110" "uvicorn>=0.29")
for version in "$@"; do
  out="$ROOT/constraints/airflow-$version-py3.11.txt"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$PYTHON" -m venv "$tmp/venv"
  reqs=("apache-airflow==$version" apache-airflow-providers-common-compat "${TOOLS[@]}")
  if [ "$version" = "3.0.6" ]; then
    # 3.0 sets no upper bounds on its API stack, and with today's cadwyn/FastAPI/Starlette its
    # execution API refuses every task start (HTTP 422): keep to the releases of its time.
    reqs+=("cadwyn<5.5" "fastapi<0.118" "starlette<0.49")
    # Its ObjectStoragePath predates universal-pathlib 0.3, which it refuses for every path
    # ("detected protocol file which is incompatible with ObjectStoragePath").
    reqs+=("universal-pathlib<0.3")
  fi
  if [ "$version" = "3.2.2" ]; then
    # With FastAPI >= 0.137 (3.3 caps it) and svcs 26, its in-process execution API fails in
    # `airflow dags test` (a discriminator error, then "State has no attribute svcs_registry").
    reqs+=("fastapi<0.137" "svcs<26")
    # This lane also runs the example DAGs with the OpenLineage provider (scripts/compat.sh).
    reqs+=(apache-airflow-providers-openlineage)
  fi
  if [ "$version" = "3.3.2" ]; then
    reqs=("apache-airflow[celery,postgres]==$version" "celery[redis]==5.6.3" apache-airflow-providers-http
          apache-airflow-providers-common-compat playwright sphinx myst-parser furo "${TOOLS[@]}")
  fi
  echo ">> resolving Airflow $version: ${reqs[*]}"
  "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${reqs[@]}" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  "$tmp/venv/bin/python" -c "import airflow, airflow.providers.common.compat.sdk as s; s.BaseHook; print('airflow', airflow.__version__)"
  {
    echo "# Airflow $version on Python 3.11, resolved $(date -u +%Y-%m-%d) by: bash scripts/constraints.sh $version"
    echo "# Use: pip install \"apache-airflow==$version\" airflow-provider-annotation -c constraints/$(basename "$out")"
    "$tmp/venv/bin/python" -m pip freeze --disable-pip-version-check --all | grep -v -E '^(pip|setuptools|wheel)=='
  } >"$out"
  echo ">> wrote $out ($(grep -vc '^#' "$out") pins)"
  rm -rf "$tmp"; trap - EXIT
done
