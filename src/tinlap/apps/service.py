"""``tinlap serve``: the index over HTTP (FastAPI on uvicorn).

``POST /check`` (is this text a copy of an indexed one, of which, with exact scores),
``POST /add``, ``GET /documents/{id}``, ``GET /health``; the OpenAPI description is at
``/openapi.json``. Every route but ``/health`` and ``/openapi.json`` needs
``Authorization: Bearer <token>``. Bodies over the size limit get 413 before they are read;
every error is JSON: ``{"error": code, "message": text, "detail": ...}``.

``/check`` runs on the event loop: it is ~1 ms of CPU, and spreading it over threads only
adds GIL contention (measured: half the throughput under 50 concurrent clients); use
``--workers`` for more cores. ``/add`` may wait for the write lock, so it runs on the thread
pool, as do the other routes (index reads use one SQLite connection per thread).
"""

import os
import secrets
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

from tinlap import __version__
from tinlap.index.store import DuplicateIdError, Index, IndexBusyError, Verdict
from tinlap.records import Record

DEFAULT_MAX_BODY = 1 << 20
TOKEN_ENV = "TINLAP_TOKEN"

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
    """413 for bodies over ``max_bytes``: by Content-Length before reading, else while reading."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

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
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"


_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
_CODES |= {409: "conflict", 413: "too_large", 503: "busy"}


def _error(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"error": code, "message": message, "detail": detail}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 413, 422)
}


# ------------------------------------------------------------------------------------------ app


def create_app(index_dir: Path, token: str, max_body_bytes: int = DEFAULT_MAX_BODY) -> FastAPI:
    """The service for the index in ``index_dir``, opened for the app's lifetime."""
    if not token:
        raise ValueError("an empty token would let anyone in")
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
        errors = exc.errors()
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

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """The app as ``uvicorn --factory`` builds it in each worker process (settings from env)."""
    return create_app(
        Path(os.environ["TINLAP_INDEX"]),
        os.environ.get(TOKEN_ENV, ""),
        int(os.environ.get("TINLAP_MAX_BODY", DEFAULT_MAX_BODY)),
    )


def serve(
    index_dir: Path, token: str, *, host: str, port: int, max_body_bytes: int, workers: int
) -> None:
    """Run uvicorn until interrupted."""
    import uvicorn

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
        app, host=host, port=port, workers=workers, factory=workers > 1, log_level="warning"
    )
