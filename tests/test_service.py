"""``tinlap serve``: a real uvicorn server on a loopback port, driven over HTTP.

Auth, size limits, JSON errors, the routes' answers, and a bounded schemathesis run against the
service's own OpenAPI description.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from test_index import OTHER, STORY, STORY_WRAPPED, THIRD  # noqa: E402

from tinlap.apps.service import create_app, server_settings  # noqa: E402
from tinlap.index.store import Index, IndexSettings  # noqa: E402

TOKEN = "test-token-5a1f-long-enough"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 64 * 1024


@contextmanager
def _server(app: Any, **settings: Any) -> Iterator[str]:
    """A uvicorn server with ``tinlap serve``'s settings on a free loopback port."""
    config = {**server_settings(**settings), "log_level": "critical"}
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", **config))
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


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("service") / "idx"
    with Index.create(folder, IndexSettings()) as index:
        index.add([("story", STORY), ("other", OTHER)])
    return folder


@pytest.fixture(scope="module")
def base_url(index_dir: Path) -> Iterator[str]:
    # Failed-auth throttling is tested on its own app: here the tests' 401s must not add up.
    with _server(create_app(index_dir, TOKEN, MAX_BODY, auth_failure_burst=10**6)) as url:
        yield url


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


# ------------------------------------------------------------ hostile clients (issue 13 item 9)


def test_auth_is_checked_before_the_body_is_read(client: httpx.Client) -> None:
    """Malformed JSON without a token got 400 (the body was parsed first); now 401."""
    headers = {"Content-Type": "application/json"}
    _error(client.post("/check", content=b'{"text": ', headers=headers), 401, "unauthorized")
    # A body announced but never sent: the answer does not wait for it.
    host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
        assert raw.recv(65536).startswith(b"HTTP/1.1 401 ")
    _error(client.get("/no-such-route"), 401, "unauthorized")


def test_invalid_requests_never_echo_the_body_nor_fail(client: httpx.Client) -> None:
    """A lone surrogate in an invalid request gave 500 and a reset connection, and 422
    answers echoed the whole body; now a 4xx that names the fields, not their values."""
    post = {"url": "/check", "headers": {**AUTH, "Content-Type": "application/json"}}
    secret = "bí mật " * 200
    for content in (
        b'{"text": 5, "extra": "\\ud800 %s"}' % secret.encode(),
        b'{"text": ["\\udfff"], "k\\ud800ey": "%s"}' % secret.encode(),
        b'{"id": "\\ud800", "text": "x"}',
    ):
        response = client.post(**post, content=content)
        body = _error(response, 422, "invalid_request")
        assert "bí mật" not in response.text and '"input"' not in response.text
        assert all({"type", "loc", "msg"} == set(e) for e in body["detail"])
    add = {**post, "url": "/add"}  # a lone surrogate in the id is refused, not repaired
    _error(client.post(**add, content=b'{"id": "\\ud800", "text": "x"}'), 422, "invalid_request")
    assert client.get("/health").status_code == 200  # the connection and server live on


def test_short_tokens_are_refused_at_startup(index_dir: Path, tmp_path: Path) -> None:
    for token in ("", "x", "a" * 15, "with space in it here"):
        with pytest.raises(ValueError):
            create_app(index_dir, token)
    create_app(index_dir, "a" * 16)
    from click.testing import CliRunner

    from tinlap.apps.cli import main

    (tmp_path / "token").write_text("short\n")
    result = CliRunner().invoke(
        main, ["serve", str(index_dir), "--token-file", str(tmp_path / "token")]
    )
    assert result.exit_code == 2 and "at least 16" in result.output


def test_failed_authentication_is_rate_limited(index_dir: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(index_dir, TOKEN, auth_failure_burst=3, auth_failure_rate=0.5)
    with TestClient(app) as client:
        wrong = {"Authorization": "Bearer wrong-token-of-enough-length"}
        for _ in range(3):
            _error(client.post("/check", json={"text": STORY}, headers=wrong), 401, "unauthorized")
        for headers in (wrong, AUTH):  # while throttled, even the right token waits
            response = client.post("/check", json={"text": STORY}, headers=headers)
            _error(response, 429, "too_many_requests")
            assert 1 <= int(response.headers["retry-after"]) <= 2
        assert client.get("/health").status_code == 200  # open routes are not throttled
        time.sleep(2.1)  # one failure refilled
        assert client.post("/check", json={"text": STORY}, headers=AUTH).status_code == 200


def _recv_closed(sock: socket.socket, within: float) -> bool:
    """True when the server closes ``sock`` (or answers and closes) within ``within`` s."""
    sock.settimeout(within)
    try:
        while data := sock.recv(65536):
            del data
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_slow_and_many_connections_are_bounded(index_dir: Path) -> None:
    """300 idle slow connections were all held, with no header or body timeout; now headers
    must arrive in time, a body piece too (408), connections beyond the cap are closed at once,
    and an oversized request head is refused."""
    app = create_app(index_dir, TOKEN, body_timeout=1.0)
    with _server(app, header_timeout=1.0, max_connections=5) as url:
        host, port = url.removeprefix("http://").split(":")
        address = (host, int(port))
        slow = socket.create_connection(address)
        slow.sendall(b"POST /check HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        assert _recv_closed(slow, 3.0)
        idle = [socket.create_connection(address) for _ in range(8)]
        time.sleep(0.3)
        closed_at_once = sum(_recv_closed(s, 0.2) for s in idle)
        assert closed_at_once >= 3  # only 5 may stay open
        assert all(_recv_closed(s, 3.0) for s in idle)  # and those lose them in time
        body = socket.create_connection(address)
        body.sendall(
            b"POST /check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"te'
        )
        body.settimeout(5)
        assert body.recv(65536).startswith(b"HTTP/1.1 408 ")
        body.close()
        with httpx.Client(base_url=url, timeout=10) as client:
            for size in (32 * 1024, 512 * 1024):  # in one read; in many (h11's limit)
                try:
                    response = client.get("/health", headers={"X-Padding": "a" * size})
                except httpx.HTTPError:
                    continue  # refused by closing the connection
                assert response.status_code in (400, 431)
            assert client.get("/health").status_code == 200
        for s in [slow, *idle]:
            s.close()


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
