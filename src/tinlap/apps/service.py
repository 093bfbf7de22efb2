"""``tinlap serve``: the index over HTTP (FastAPI on uvicorn).

``POST /check`` (is this text a copy of an indexed one, of which, with exact scores),
``POST /add``, ``GET /documents/{id}``, ``GET /health``; the OpenAPI description is at
``/openapi.json``. Every route but ``/health`` and ``/openapi.json`` needs
``Authorization: Bearer <token>`` (at least 16 characters), checked before the body is read;
repeated failures from one address are throttled (429 with Retry-After). Bodies over the size
limit get 413 before they are read; a body not sent within ``BODY_TIMEOUT`` seconds gets 408;
every error is JSON: ``{"error": code, "message": text, "detail": ...}``, never echoing the
body. :func:`server_config` adds what uvicorn does not do by itself: a deadline for a request's
headers, a cap on open connections and on the size of the headers (h11).

``/check`` runs on the event loop: it is ~1 ms of CPU, and spreading it over threads only
adds GIL contention (measured: half the throughput under 50 concurrent clients); use
``--workers`` for more cores. ``/add`` may wait for the write lock, so it runs on the thread
pool, as do the other routes (index reads use one SQLite connection per thread).
"""

import asyncio
import math
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from tinlap import __version__
from tinlap.index.store import DuplicateIdError, Index, IndexBusyError, Verdict
from tinlap.records import Record
from tinlap.wording import count

DEFAULT_MAX_BODY = 1 << 20
TOKEN_ENV = "TINLAP_TOKEN"
MIN_TOKEN_LENGTH = 16
OPEN_PATHS = frozenset({"/health", "/openapi.json"})  # no token needed
# Failed authentications per client address: a burst, then this many per second.
AUTH_FAILURE_BURST = 10
AUTH_FAILURE_RATE = 0.5
HEADER_TIMEOUT = 10.0  # seconds from connection (or the last response) to a request's headers
BODY_TIMEOUT = 30.0  # seconds for each piece of a request body
KEEP_ALIVE_TIMEOUT = 5  # idle seconds between requests
MAX_CONNECTIONS = 256  # open connections per worker; more are closed at once
MAX_HEADER_BYTES = 16 * 1024  # h11's limit on an incomplete request head

Reason = Literal["exact", "near", "contained"]


# -------------------------------------------------------------------------------------- models


def _valid_text(value: str) -> str:
    """JSON may carry lone surrogates; like invalid UTF-8 in files, they become U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="The document's text (cleaned and normalised as by dedup).")

    _text = field_validator("text")(_valid_text)


class AddRequest(CheckRequest):
    id: str = Field(min_length=1, max_length=1024, description="A new, unique document id.")
    only_new: bool = Field(False, description="Add the document only if it copies nothing.")

    @field_validator("id")
    @classmethod
    def _encodable(cls, value: str) -> str:
        value.encode("utf-8")  # a lone surrogate raises: an id is not repaired silently
        return value


class MatchOut(BaseModel):
    id: str
    jaccard: float = Field(description="Exact Jaccard of the two shingle sets.")
    containment: float = Field(description="Share of the checked text's shingles in this one.")
    reason: Reason


class CheckResponse(BaseModel):
    duplicate: bool
    duplicate_of: str | None = Field(description="The best match: the indexed original.")
    reason: Reason | None
    matchable: bool = Field(description="False: no words left after cleaning; copies nothing.")
    matches: list[MatchOut] = Field(description="Every qualifying document, best first (≤ 10).")


class AddResponse(CheckResponse):
    id: str
    added: bool


class DocumentResponse(BaseModel):
    id: str
    length: int = Field(description="Cleaned text length in characters.")
    shingles: int
    duplicate_of: str | None = Field(description="What it copied when it was added, if anything.")
    added: str = Field(description="When it was added (UTC, ISO 8601).")
    text: str = Field(description="The cleaned text.")


class HealthResponse(BaseModel):
    status: Literal["ok"]
    documents: int
    tinlap_version: str


class ErrorResponse(BaseModel):
    error: str
    message: str
    detail: Any = None


def _json(content: dict[str, Any]) -> Response:
    """Serialised directly: the response models document the routes, and re-validating what
    the index built costs more than the check itself."""
    return Response(orjson.dumps(content), media_type="application/json")


def _verdict(verdict: Verdict) -> dict[str, Any]:
    best = verdict.matches[0] if verdict.matches else None
    return {
        "duplicate": verdict.duplicate,
        "duplicate_of": verdict.duplicate_of,
        "reason": best.reason if best else None,
        "matchable": verdict.matchable,
        "matches": [
            {"id": m.id, "jaccard": m.jaccard, "containment": m.containment, "reason": m.reason}
            for m in verdict.matches
        ],
    }


# ------------------------------------------------------------------------------------ plumbing


class BodyLimit:
    """413 for bodies over ``max_bytes``: by Content-Length before reading, else while reading;
    408 when a piece of the body does not arrive within ``timeout`` seconds."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = BODY_TIMEOUT) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            response = _error(413, "too_large", self._message())
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise HTTPException(
                    408, f"request body not sent within {self.timeout:g} s"
                ) from None
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"request body larger than {count(self.max_bytes, 'byte')}"


def _head_size(scope: Scope) -> int:
    return sum(len(k) + len(v) + 4 for k, v in scope["headers"]) + len(scope.get("raw_path") or b"")


class AuthGate:
    """The bearer token, checked from the headers before anything reads the body (a malformed
    body without a token gets 401, not 400), and failed attempts throttled per client address:
    a token bucket of ``burst`` failures refilled at ``rate`` per second; while it is empty,
    every request from that address needing a token gets 429 with Retry-After (even with the
    right token, so answers cannot be used to test guesses)."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        burst: int = AUTH_FAILURE_BURST,
        rate: float = AUTH_FAILURE_RATE,
        max_clients: int = 10_000,
    ) -> None:
        self.app = app
        self.expected = b"Bearer " + token.encode()
        self.burst, self.rate, self.max_clients = burst, rate, max_clients
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _head_size(scope) > MAX_HEADER_BYTES:
            # h11 bounds a head that arrives in pieces; one that came whole is bounded here.
            message = f"request headers larger than {count(MAX_HEADER_BYTES, 'byte')}"
            await _error(431, "headers_too_large", message)(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        now = time.monotonic()
        tokens = self._tokens(client, now)
        if tokens < 1:
            wait = math.ceil((1 - tokens) / self.rate)
            response = _error(
                429,
                "too_many_requests",
                f"too many failed authentications from this address; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if secrets.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        self._spend(client, tokens - 1, now)
        response = _error(401, "unauthorized", "missing or wrong bearer token")
        await response(scope, receive, send)

    def _tokens(self, client: str, now: float) -> float:
        if client not in self.buckets:
            return float(self.burst)
        tokens, when = self.buckets[client]
        return min(float(self.burst), tokens + (now - when) * self.rate)

    def _spend(self, client: str, tokens: float, now: float) -> None:
        self.buckets[client] = (tokens, now)
        self.buckets.move_to_end(client)
        while len(self.buckets) > self.max_clients:  # bounded: forget the longest quiet
            self.buckets.popitem(last=False)


_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
_CODES |= {408: "timeout", 409: "conflict", 413: "too_large", 429: "too_many_requests"}
_CODES |= {431: "headers_too_large", 503: "busy"}


def _error(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    body = _encodable(jsonable_encoder({"error": code, "message": message, "detail": detail}))
    return JSONResponse(body, status_code=status, headers=headers)


def _encodable(value: Any) -> Any:
    """Lone surrogates (from a request's JSON) replaced so the answer can be UTF-8."""
    if isinstance(value, str):
        return _valid_text(value)
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def _without_input(errors: list[Any]) -> list[dict[str, Any]]:
    """Validation errors without the request's data: where and what, never the body's values
    (they may be large or secret). Field names from the body are cut at 100 characters."""
    return [
        {
            "type": e.get("type"),
            "loc": [
                str(part)[:100] if isinstance(part, str) else part for part in e.get("loc", ())
            ],
            "msg": e.get("msg"),
        }
        for e in errors[:20]
    ]


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 408, 413, 422, 429, 431)
}


# ------------------------------------------------------------------------------------------ app


def check_token(token: str) -> None:
    """Refuse tokens short enough to guess (and ones that cannot be sent in a header)."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"the token has {count(len(token), 'character')}; use at least {MIN_TOKEN_LENGTH} "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ValueError("the token must be printable ASCII without spaces")


def create_app(
    index_dir: Path,
    token: str,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    *,
    auth_failure_burst: int = AUTH_FAILURE_BURST,
    auth_failure_rate: float = AUTH_FAILURE_RATE,
    body_timeout: float = BODY_TIMEOUT,
) -> FastAPI:
    """The service for the index in ``index_dir``, opened for the app's lifetime."""
    check_token(token)
    index = Index(index_dir)  # fails now, before the server binds, if the index is unusable

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        index.close()

    app = FastAPI(
        title="tinlap index",
        version=__version__,
        description="Is this news text a copy of one already seen? Exact, near and contained "
        "copies, verified on the full shingle sets.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    bearer = HTTPBearer(auto_error=False)
    expected = token.encode()

    def authorised(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if not secrets.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong bearer token")

    auth = [Depends(authorised)]

    @app.post("/check", response_model=CheckResponse, responses=_ERRORS, dependencies=auth)
    async def check(request: CheckRequest) -> Response:
        """Whether the text copies an indexed document, and which (read-only)."""
        # Computed on the event loop: ~1 ms of CPU that threads would only slow down (GIL).
        return _json(_verdict(index.check([request.text])[0]))

    @app.post(
        "/add",
        response_model=AddResponse,
        responses={**_ERRORS, 409: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
        dependencies=auth,
    )
    def add(request: AddRequest) -> Response:
        """Check the document and add it (with ``only_new``, only when it copies nothing)."""
        record = Record(request.id, request.text, "")
        (verdict,) = index.add_records([record], only_new=request.only_new)
        if verdict.error:
            raise DuplicateIdError(verdict.error)
        return _json({**_verdict(verdict), "id": verdict.id, "added": verdict.added})

    @app.get(
        "/documents/{doc_id:path}",
        response_model=DocumentResponse,
        responses={**_ERRORS, 404: {"model": ErrorResponse}},
        dependencies=auth,
    )
    def document(doc_id: str) -> dict[str, Any]:
        """What the index holds about one document."""
        found = index.document(doc_id)
        if found is None:
            raise HTTPException(404, f"no document {doc_id!r} in the index")
        return found

    @app.get("/health", response_model=HealthResponse)
    def health() -> dict[str, Any]:
        """Liveness, and the number of indexed documents (no token needed)."""
        return {
            "status": "ok",
            "documents": index.stats()["documents"],
            "tinlap_version": __version__,
        }

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _without_input(list(exc.errors()))
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", "the body is not valid JSON", errors)
        return _error(422, "invalid_request", "the request does not fit the schema", errors)

    @app.exception_handler(DuplicateIdError)
    async def conflict(_: Request, exc: DuplicateIdError) -> JSONResponse:
        return _error(409, "conflict", str(exc))

    @app.exception_handler(IndexBusyError)
    async def busy(_: Request, exc: IndexBusyError) -> JSONResponse:
        return _error(503, "busy", str(exc))

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        return _error(500, "internal", f"{type(exc).__name__}: {exc}")

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, timeout=body_timeout)
    app.add_middleware(  # outermost: the token before the size, before the body
        AuthGate, token=token, burst=auth_failure_burst, rate=auth_failure_rate
    )
    return app


def app_from_env() -> FastAPI:
    """The app as ``uvicorn --factory`` builds it in each worker process (settings from env)."""
    return create_app(
        Path(os.environ["TINLAP_INDEX"]),
        os.environ.get(TOKEN_ENV, ""),
        int(os.environ.get("TINLAP_MAX_BODY", DEFAULT_MAX_BODY)),
    )


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with what it lacks against slow or many clients: a connection
    whose request headers are not complete ``header_timeout`` seconds after it opened (or after
    the previous response) is closed, and connections beyond ``max_connections`` are closed as
    soon as they open. (uvicorn's keep-alive timeout stops as soon as any byte arrives, and
    ``limit_concurrency`` answers 503 only once a request's headers are in.)"""

    header_timeout: float = HEADER_TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()
            return
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        # No request began since the timer was armed: its headers are late (or never came).
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)


def server_settings(
    header_timeout: float = HEADER_TIMEOUT, max_connections: int = MAX_CONNECTIONS
) -> dict[str, Any]:
    """uvicorn settings of ``tinlap serve``: timeouts and caps on every connection."""
    protocol = GuardedH11Protocol
    if (header_timeout, max_connections) != (HEADER_TIMEOUT, MAX_CONNECTIONS):  # tests
        attributes = {"header_timeout": header_timeout, "max_connections": max_connections}
        protocol = type("GuardedH11Protocol", (GuardedH11Protocol,), attributes)
    return {
        "http": protocol,
        "timeout_keep_alive": KEEP_ALIVE_TIMEOUT,
        # Requests in flight beyond this get 503 (connections are capped by the protocol).
        "limit_concurrency": max_connections + 1,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "log_level": "warning",
    }


def serve(
    index_dir: Path, token: str, *, host: str, port: int, max_body_bytes: int, workers: int
) -> None:
    """Run uvicorn until interrupted."""
    import uvicorn

    check_token(token)
    if workers == 1:
        app: ASGIApp | str = create_app(index_dir, token, max_body_bytes)
    else:  # each worker process builds its own app (and its own index connections)
        Index(index_dir).close()  # an unusable index fails here, not in every worker
        os.environ.update(
            {
                "TINLAP_INDEX": str(index_dir),
                TOKEN_ENV: token,
                "TINLAP_MAX_BODY": str(max_body_bytes),
            }
        )
        app = "tinlap.apps.service:app_from_env"
    uvicorn.run(
        app, host=host, port=port, workers=workers, factory=workers > 1, **server_settings()
    )
