"""The dialer image installs the project as a wheel (docker/dialer/Dockerfile, `pip wheel .`), not
as the editable checkout the tests use: what is not in the wheel is not in the image."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.tools import REPO, run

# What docker/dialer/Dockerfile copies into its build stage.
BUILD_INPUTS = ["pyproject.toml", "setup.cfg", "README.md", "cli.py", "dialer", "migrations"]
DATA_SUFFIXES = {".py", ".yaml", ".yml", ".ini", ".mako", ".csv", ".json", ".txt", ".tsv"}


@pytest.mark.slow   # builds the wheel (about 10 s)
def test_given_the_package_built_as_the_image_builds_it_then_every_shipped_file_is_in_the_wheel(
        tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)

    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "wheels"),
         str(source)], check=True, timeout=300)

    [wheel] = (tmp_path / "wheels").glob("*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    # Code and the data kinds setup.cfg declares as package data (a README beside the code is not shipped).
    shipped = {str(p.relative_to(source)) for top in ("dialer", "migrations") for p in (source / top).rglob("*")
               if p.is_file() and p.suffix in DATA_SUFFIXES}
    # Policy profiles, bot scripts and simulator scenarios are YAML in directories without
    # __init__.py: setup.cfg must use `packages = find_namespace:` for them to be packaged.
    assert sorted(shipped - packaged) == []
    assert "cli.py" in packaged
