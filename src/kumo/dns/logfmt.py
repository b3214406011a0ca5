"""external-dns's log lines (``--log-format text|json``, ``--log-level trace..panic``).

external-dns logs through logrus. Its text formatter (no TTY) writes
``time="2026-01-02T03:04:05Z" level=info msg="..."``; its JSON formatter writes the keys ``level``,
``msg`` and ``time`` (and ``error`` for a logged error). Log pipelines parse those keys, so kumo
writes the same.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys

import orjson

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

# logrus level name -> Python level; logrus prints "warning", not "warn"
LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "panic": logging.CRITICAL,
}


def _logrus_level(levelno: int) -> str:
    if levelno <= TRACE:
        return "trace"
    if levelno <= logging.DEBUG:
        return "debug"
    if levelno <= logging.INFO:
        return "info"
    if levelno <= logging.WARNING:
        return "warning"
    if levelno <= logging.ERROR:
        return "error"
    return "fatal"


def _time(record: logging.LogRecord) -> str:
    stamp = _dt.datetime.fromtimestamp(record.created, tz=_dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(value: str) -> str:
    # logrus quotes a value unless it is made of safe characters only
    if value and all(c.isalnum() or c in "-._/@^+" for c in value):
        return value
    return orjson.dumps(value).decode()


class LogrusTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [f"time={_quote(_time(record))}", f"level={_logrus_level(record.levelno)}"]
        parts.append(f"msg={_quote(record.getMessage())}")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(f"error={_quote(str(record.exc_info[1]))}")
        return " ".join(parts)


class LogrusJSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {"level": _logrus_level(record.levelno), "msg": record.getMessage(), "time": _time(record)}
        if record.exc_info and record.exc_info[1] is not None:
            body["error"] = str(record.exc_info[1])
        return orjson.dumps(body).decode()


def configure(level: str = "info", fmt: str = "text") -> None:
    """Set up the root logger as external-dns's flags ask (to stderr, as logrus does)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogrusJSONFormatter() if fmt == "json" else LogrusTextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[level])
    if LEVELS[level] > logging.DEBUG:
        for noisy in ("httpx", "httpx2", "httpcore", "botocore", "uvicorn.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)  # one line per HTTP request otherwise
