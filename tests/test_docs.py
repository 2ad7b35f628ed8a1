"""The docs site covers what users can import and run: every example DAG is included in some page,
every public operator, sensor, hook method and exception is documented (in the API reference page
generated from docstrings, or by name on a page), and every hook method says its parameters and
result. Static checks of docs/ and the package; `bash scripts/docs.sh` does the build itself."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from airflow_provider_annotation import exceptions
from airflow_provider_annotation.hooks.annotation import AnnotationAsyncHook, AnnotationHook
from airflow_provider_annotation.operators import annotation as operators
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor
from airflow_provider_annotation.workflow import WorkflowValidationError

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
INCLUDE = re.compile(r"^```\{literalinclude\} (\S+)\n((?::[\w-]+:.*\n)*)```", re.MULTILINE)


def _pages() -> dict[Path, str]:
    return {path: path.read_text() for path in DOCS.rglob("*.md") if "pending" not in path.parts}


def _includes() -> list[tuple[Path, Path, dict[str, str]]]:
    """(page, included file, options) for every literalinclude of every page."""
    found = []
    for page, text in _pages().items():
        for target, options in INCLUDE.findall(text):
            opts = dict(re.findall(r"^:([\w-]+):\s*(.*)$", options, flags=re.MULTILINE))
            found.append((page, (page.parent / target).resolve(), opts))
    return found


def _automodules() -> set[str]:
    api = (DOCS / "reference" / "api.md").read_text()
    return set(re.findall(r"^\.\. automodule:: (\S+)$", api, flags=re.MULTILINE))


def _documented(module: str, name: str, obj: object) -> bool:
    """In a module the API page generates (autodoc shows members with a docstring that the module
    exports), or named on a page."""
    mod = __import__(module, fromlist=["_"])
    exported = name in getattr(mod, "__all__", [name])
    if module in _automodules() and exported and obj.__doc__:  # its own (autodoc_inherit_docstrings off)
        return True
    return any(f"`{name}`" in text for text in _pages().values())


def test_every_example_dag_is_included_in_some_page():
    included = {target for _, target, _ in _includes()}
    dags = sorted((ROOT / "dags").glob("annotation_*.py"))
    assert dags
    assert [dag.name for dag in dags if dag.resolve() not in included] == []


def test_every_include_names_an_existing_file_and_markers():
    for page, target, opts in _includes():
        assert target.is_file(), f"{page.name}: {target}"
        source = target.read_text()
        for key in ("start-after", "end-before"):
            if key in opts:
                marker = opts[key].strip().strip('"').strip("'")
                assert marker in source, f"{page.name}: {marker!r} not in {target.name}"


def test_readme_dag_is_the_example_dag_that_runs():
    """The README's only Python block is the marked part of `annotation_project_setup`, as is."""
    readme = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    dag = (ROOT / "dags" / "annotation_project_setup.py").read_text()
    part = dag.split("# [START howto_project_setup]\n", 1)[1].split("    # [END howto_project_setup]", 1)[0]
    assert block == "\n".join(line[4:] for line in part.split("\n"))


def test_readme_is_a_landing_page_without_relative_links():
    """At most about 150 lines, and nothing that breaks on the package index's page."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    links = re.findall(r"\]\(([^)]+)\)", readme)
    assert [link for link in links if not link.startswith("https://")] == []


PUBLIC = [
    *((operators.__name__, name, getattr(operators, name)) for name in operators.__all__),
    (AnnotationTaskSensor.__module__, "AnnotationTaskSensor", AnnotationTaskSensor),
    *(
        (exceptions.__name__, name, obj)
        for name, obj in vars(exceptions).items()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == exceptions.__name__
    ),
    ("airflow_provider_annotation.workflow", "WorkflowValidationError", WorkflowValidationError),
]


@pytest.mark.parametrize(("module", "name", "obj"), PUBLIC, ids=[name for _, name, _ in PUBLIC])
def test_public_class_is_documented(module, name, obj):
    assert _documented(module, name, obj)


def _hook_methods() -> list[tuple[type, str]]:
    return [
        (hook, name)
        for hook in (AnnotationHook, AnnotationAsyncHook)
        for name, member in vars(hook).items()
        if not name.startswith("_") and inspect.isfunction(member)
    ]


@pytest.mark.parametrize(("hook", "name"), _hook_methods(), ids=lambda v: getattr(v, "__name__", v))
def test_public_hook_method_is_documented_with_params_and_return(hook, name):
    method = vars(hook)[name]
    doc = inspect.cleandoc(method.__doc__ or "")
    assert _documented("airflow_provider_annotation.hooks.annotation", hook.__name__, hook) and doc
    signature = inspect.signature(method)
    for param in signature.parameters.values():
        if param.name != "self" and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            assert f":param {param.name}:" in doc, f"{hook.__name__}.{name}: {param.name}"
    if signature.return_annotation not in (None, "None", inspect.Signature.empty):
        assert ":return:" in doc, f"{hook.__name__}.{name}"


@pytest.mark.parametrize(
    "cls", [getattr(operators, name) for name in operators.__all__] + [AnnotationTaskSensor], ids=str
)
def test_operator_docstring_names_every_argument(cls):
    doc = inspect.getdoc(cls) or ""
    signature = inspect.signature(cls.__init__)
    for param in signature.parameters.values():
        if param.name != "self" and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            assert f":param {param.name}:" in doc, f"{cls.__name__}: {param.name}"


def test_link_check_finds_a_missing_page_and_a_missing_anchor(tmp_path):
    """scripts/check_docs_links.py, which scripts/docs.sh runs on the built site."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "check_docs_links", ROOT / "scripts" / "check_docs_links.py"
    )
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/page.html#there">ok</a> <a href="https://example.com/x">external</a>'
        '<link href="style.css?v=1"> <a href="#top" id="top">self</a>'
    )
    (tmp_path / "style.css").write_text("")
    (tmp_path / "sub" / "page.html").write_text(
        '<h1 id="there">x</h1><a href="../index.html#gone">a</a><a href="../nowhere.html">b</a>'
    )
    assert checker.broken_links(tmp_path) == [
        "sub/page.html: ../index.html#gone (no such anchor)",
        "sub/page.html: ../nowhere.html (no such file)",
    ]
    assert checker.main(["check", str(tmp_path)]) == 1
