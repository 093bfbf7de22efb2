"""The package builds (sdist and wheel, with py.typed and the LICENSE) and the API reference
builds from the docstrings with warnings as errors."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocstrings", reason="the test group installs mkdocs + mkdocstrings")
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    page = (site / "api" / "index.html").read_text("utf-8")
    assert "tinlap.api.dedup" in page and "text_field" in page


def test_python_m_build(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the test group installs build")
    run = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (wheel,) = tmp_path.glob("tinlap-*.whl")
    assert len(list(tmp_path.glob("tinlap-*.tar.gz"))) == 1
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "tinlap/py.typed" in names and "tinlap/api.py" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata
