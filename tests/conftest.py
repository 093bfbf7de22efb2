"""Shared fixtures: the real data beside the checkout (../shared), and a local S3 server.

Tests that need the data skip with a clear message when it is absent; S3 tests skip without
s3fs and moto (both in the test dependency group).
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
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


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local moto S3 server on a free port; fsspec's s3 points at it through the environment."""
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its buckets in this process across servers: start each test from none
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    import fsspec

    fsspec.config.set_conf_env(fsspec.config.conf)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir("tinlap-test")  # the bucket every S3 test uses
    try:
        yield endpoint
    finally:
        fsspec.config.conf.pop("s3", None)
        server.stop()
