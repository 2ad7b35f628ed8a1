"""The package as an index would get it: built without warnings, accepted by twine, and holding
exactly what users need (the code, py.typed, the license), not the repository's tests or DAGs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from airflow_provider_annotation import __version__

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """sdist and wheel built by `python -m build` (about a minute) from a copy of the source (the build writes
    egg-info next to the sources); the wheel is built from the sdist, as an index user's pip would."""
    src = tmp_path_factory.mktemp("src") / "project"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            ".compat",
            "__pycache__",
            "*.egg-info",
            "build",
            "_build",
            "dist",
            ".pytest_cache",
        ),
    )
    out = src / "dist"
    # (PYTHONDONTWRITEBYTECODE, set on some machines, makes setuptools warn that it skips byte-compiling)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return out, done.stdout + done.stderr


def _wheel(out: Path) -> Path:
    (wheel,) = out.glob("*.whl")
    return wheel


def test_build_gives_no_warnings(dist):
    _, log = dist
    assert "warning" not in log.lower(), log


def test_twine_check_passes(dist):
    out, _ = dist
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, out.iterdir())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_wheel_holds_the_code_py_typed_and_license_but_no_tests_or_dags(dist):
    out, _ = dist
    names = zipfile.ZipFile(_wheel(out)).namelist()
    dist_info = f"airflow_provider_annotation-{__version__}.dist-info"
    assert "airflow_provider_annotation/py.typed" in names
    assert f"{dist_info}/licenses/LICENSE" in names
    assert "airflow_provider_annotation/testing/pytest_plugin.py" in names
    assert "airflow_provider_annotation/version_compat.py" in names
    assert {n.split("/")[0] for n in names} == {"airflow_provider_annotation", dist_info}


def test_wheel_metadata_states_license_python_and_dependencies(dist):
    out, _ = dist
    wheel = zipfile.ZipFile(_wheel(out))
    meta = Parser().parsestr(
        wheel.read(f"airflow_provider_annotation-{__version__}.dist-info/METADATA").decode()
    )
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.11"
    requires = meta.get_all("Requires-Dist")
    assert "apache-airflow>=2.11.0" in requires
    assert "apache-airflow-providers-common-compat>=1.23.0" in requires
    assert any(r.startswith("fastapi") and 'extra == "testing"' in r for r in requires)
    assert not any(r.startswith(("fastapi", "uvicorn")) and "extra" not in r for r in requires)
    classifiers = meta.get_all("Classifier")
    assert "Framework :: Apache Airflow :: Provider" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    entry_points = wheel.read(
        f"airflow_provider_annotation-{__version__}.dist-info/entry_points.txt"
    ).decode()
    assert "airflow_provider_annotation.get_provider_info:get_provider_info" in entry_points


def test_sdist_holds_no_tests_so_it_needs_none_of_their_files(dist):
    out, _ = dist
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = f"airflow_provider_annotation-{__version__}"
    assert f"{top}/LICENSE" in names and f"{top}/pyproject.toml" in names
    assert f"{top}/CHANGELOG.md" in names
    assert not [n for n in names if n.startswith((f"{top}/tests", f"{top}/dags", f"{top}/scripts"))]


def test_wheel_is_what_the_readme_installs_and_airflow_finds(dist):
    """The README's install section: the wheel's file name, the entry point group Airflow scans,
    and the ``[testing]`` extra bringing both FastAPI and uvicorn."""
    import configparser

    out, _ = dist
    wheel = _wheel(out)
    assert f"dist/{wheel.name}" in (ROOT / "README.md").read_text()
    archive = zipfile.ZipFile(wheel)
    entry_points = configparser.ConfigParser()
    entry_points.read_string(
        archive.read(f"airflow_provider_annotation-{__version__}.dist-info/entry_points.txt").decode()
    )
    assert dict(entry_points["apache_airflow_provider"]) == {
        "provider_info": "airflow_provider_annotation.get_provider_info:get_provider_info"
    }
    meta = Parser().parsestr(
        archive.read(f"airflow_provider_annotation-{__version__}.dist-info/METADATA").decode()
    )
    testing = [
        r.split(";")[0].split(">")[0].strip()
        for r in meta.get_all("Requires-Dist")
        if 'extra == "testing"' in r
    ]
    assert sorted(testing) == ["fastapi", "uvicorn"]
