"""Sphinx configuration of the provider's docs (MyST Markdown pages). Build: bash scripts/docs.sh."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's package, for autodoc

from airflow_provider_annotation import __version__  # noqa: E402

project = "airflow-provider-annotation"
author = "airflow-provider-annotation contributors"
copyright = "the airflow-provider-annotation contributors, Apache-2.0"
release = version = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# docs/pending/ holds notes for the coordinator (not pages); _build is the output.
exclude_patterns = ["_build", "pending", "Thumbs.db", ".DS_Store"]

# Headings up to ### get anchors, so pages can link to [a section](page.md#its-slug).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# The create protocol's and ResumableJobMixin's hooks are how the operators are built, not what a DAG
# calls: the reference shows each operator's arguments and what it returns, not those.
_PROTOCOL = (
    "object_name id_key endpoint_name state_key build_body send lost_advice on_conflict recover_lost"
    " result describe_created build_chunks external_id_key check_inputs submit_job get_job_status"
    " is_job_active is_job_succeeded poll_until_complete get_job_result"
)
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "exclude-members": ",".join(_PROTOCOL.split()),
}
# A method without its own docstring is left out rather than shown with Airflow's base-class text.
autodoc_inherit_docstrings = False

html_theme = "furo"
html_title = f"airflow-provider-annotation {release}"
html_static_path: list[str] = []
