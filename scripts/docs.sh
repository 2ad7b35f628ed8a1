#!/usr/bin/env bash
# The docs site (docs/, MyST Markdown pages and the API reference from docstrings) built as HTML
# into docs/_build/html, warnings as errors, then every internal link and anchor of the built
# pages checked (scripts/check_docs_links.py). Extra arguments go to sphinx-build.
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
rm -rf docs/_build/html
# autodoc imports Airflow: give it a throwaway home, not ~/airflow
AIRFLOW_HOME="$(mktemp -d)"; export AIRFLOW_HOME
trap 'rm -rf "$AIRFLOW_HOME"' EXIT
python -m sphinx -W --keep-going -q -b html "$@" docs docs/_build/html
python scripts/check_docs_links.py docs/_build/html
echo ">> docs built: docs/_build/html/index.html"
