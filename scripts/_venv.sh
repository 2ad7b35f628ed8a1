# Sourced by the scripts: make (once) and enter the project's virtualenv with everything installed.
# Needs only Python 3.11, pip and git on the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ANNOTATION_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo ">> creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
CONSTRAINTS="$ROOT/constraints/airflow-3.3.2-py3.11.txt"
stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" "$CONSTRAINTS" | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
  echo ">> installing airflow-provider-annotation with Airflow 3.3.2, pinned by $(basename "$CONSTRAINTS")"
  # (this machine's pip mirrors print one harmless "Location ... is ignored" line per package)
  python -m pip install --quiet --disable-pip-version-check \
    "apache-airflow==3.3.2" -e "$ROOT[test,benchmark,docs]" -c "$CONSTRAINTS" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  touch "$stamp"
fi
