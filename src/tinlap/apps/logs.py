"""Logging for people and for schedulers: the ``tinlap`` logger's handler, as asked on the
command line (``--log-level``, ``--log-file``, ``--log-format``).

Nothing is configured unless one of them is given, so stderr carries exactly the CLI's own
messages by default. The JSON format writes one object a line: ``time`` (ISO 8601, UTC),
``level``, ``logger``, ``event`` (``stage_start``, ``stage_end``, ``progress``, ``problem``,
``run_end``, or ``message``), ``message``, and the event's own fields (``stage``, ``seconds``,
``done``, ``total``, ``path``, ``line``, ``kind``, counts...).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", "message"),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(event, default=str).decode()


def configure(level: str | None, file: Path | None, fmt: str) -> logging.Handler | None:
    """Send the ``tinlap`` logger's events to ``file`` (else stderr) at ``level`` (default
    INFO), as text or JSON lines; nothing at all when no option was given."""
    if level is None and file is None and fmt == "text":
        return None
    handler: logging.Handler
    if file is not None:
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT))
    logger = logging.getLogger("tinlap")
    logger.addHandler(handler)
    handler.previous_level = logger.level  # type: ignore[attr-defined]
    logger.setLevel(level.upper() if level else "INFO")
    return handler


def release(handler: logging.Handler) -> None:
    """Undo :func:`configure` (the command is over): detach and close its handler."""
    logger = logging.getLogger("tinlap")
    logger.removeHandler(handler)
    logger.setLevel(getattr(handler, "previous_level", logging.NOTSET))
    handler.close()
