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
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = f"airflow-provider-annotation {release}"
html_static_path: list[str] = []
