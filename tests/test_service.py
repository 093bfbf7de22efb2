"""``tinlap serve``: a real uvicorn server on a loopback port, driven over HTTP.

Auth, size limits, JSON errors, the routes' answers, and a bounded schemathesis run against the
service's own OpenAPI description.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from test_index import OTHER, STORY, STORY_WRAPPED, THIRD  # noqa: E402

from tinlap.apps.service import create_app  # noqa: E402
from tinlap.index.store import Index, IndexSettings  # noqa: E402

TOKEN = "test-token-5a1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("service") / "idx"
    with Index.create(folder, IndexSettings()) as index:
        index.add([("story", STORY), ("other", OTHER)])
    server = uvicorn.Server(
        uvicorn.Config(create_app(folder, TOKEN, MAX_BODY), log_level="warning", lifespan="on")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        yield c


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == code and body["message"]
    return body


def test_auth(client: httpx.Client) -> None:
    assert client.get("/health").json()["status"] == "ok"  # no token needed
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = client.post("/check", json={"text": STORY}, headers=headers)
        _error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    _error(client.get("/documents/story"), 401, "unauthorized")
    _error(client.post("/add", json={"id": "x", "text": THIRD}), 401, "unauthorized")
    assert client.post("/check", json={"text": STORY}, headers=AUTH).status_code == 200


def test_check_add_and_documents(client: httpx.Client) -> None:
    body = client.post("/check", json={"text": STORY_WRAPPED}, headers=AUTH).json()
    assert body["duplicate"] and body["duplicate_of"] == "story" and body["matchable"]
    best = body["matches"][0]
    assert best["id"] == "story" and 0 < best["jaccard"] <= best["containment"] <= 1

    assert not client.post("/check", json={"text": THIRD}, headers=AUTH).json()["duplicate"]
    added = client.post("/add", json={"id": "third", "text": THIRD}, headers=AUTH).json()
    assert added["added"] and not added["duplicate"] and added["id"] == "third"
    copy = {"id": "third-copy", "text": THIRD, "only_new": True}
    added = client.post("/add", json=copy, headers=AUTH).json()
    assert not added["added"] and added["duplicate_of"] == "third"
    assert added["reason"] == "exact"
    _error(client.post("/add", json={"id": "third", "text": OTHER}, headers=AUTH), 409, "conflict")

    doc = client.get("/documents/third", headers=AUTH).json()
    assert doc["id"] == "third" and doc["text"] == THIRD and doc["duplicate_of"] is None
    _error(client.get("/documents/missing/one", headers=AUTH), 404, "not_found")
    assert client.get("/health").json()["documents"] == 3


def test_bad_requests_get_json_errors(client: httpx.Client) -> None:
    post = {"url": "/check", "headers": {**AUTH, "Content-Type": "application/json"}}
    _error(client.post(**post, content=b'{"text": '), 400, "malformed_json")
    _error(client.post(**post, content=b"{}"), 422, "invalid_request")  # missing text
    _error(client.post(**post, content=b'{"text": 5}'), 422, "invalid_request")
    _error(client.post(**post, content=b'{"text": "a", "extra": 1}'), 422, "invalid_request")
    _error(client.post("/add", json={"text": STORY}, headers=AUTH), 422, "invalid_request")
    _error(client.get("/check", headers=AUTH), 405, "method_not_allowed")
    # A lone surrogate is repaired (as invalid UTF-8 in files is), not a server error.
    response = client.post(**post, content=b'{"text": "tin \\ud800 nhanh"}')
    assert response.status_code == 200


def test_oversized_bodies_get_413(client: httpx.Client) -> None:
    big = {"text": "tin " * MAX_BODY}
    _error(client.post("/check", json=big, headers=AUTH), 413, "too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"text": "'
        for _ in range(20):
            yield b"tin nhanh " * 1000
        yield b'"}'

    headers = {**AUTH, "Content-Type": "application/json"}
    _error(client.post("/check", content=chunks(), headers=headers), 413, "too_large")


# ---------------------------------------------------------------------------------- schemathesis


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_openapi_conformance(base_url: str, mode: str) -> None:
    """Generated requests (valid, then invalid) never crash the server, and every answer fits
    the OpenAPI description: status codes, content types, response schemas, auth."""
    from schemathesis import GenerationMode

    api = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} == {
        "POST /check",
        "POST /add",
        "GET /documents/{doc_id}",
        "GET /health",
    }
    for operation in operations:
        if mode == "negative" and operation.label == "GET /health":
            continue  # nothing in it to make invalid

        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=AUTH)

        check()
