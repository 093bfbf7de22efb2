"""Shared fixtures: the real data beside the checkout (../shared).

Tests that need it skip with a clear message when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"real data not found at {path}: put the project's shared/ folder beside the checkout"
        )
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _require(SHARED)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return _require(SHARED / "seeds")


@pytest.fixture(scope="session")
def vntc_path() -> Path:
    return _require(SHARED / "data" / "vntc.jsonl.zst")
