"""How every component's log lines look: one setting, ``text`` or ``json``, for all of them.

The API, the controller, the proxy and dev mode log through the standard library, and a line
that has structure passes it as ``extra={"fields": {...}}``. The JSON format writes those
fields as keys of one object per line, for log collectors; the text format writes the same
fields as ``key=value`` pairs after the message, for people, so switching formats never
loses a field. A field value that could break the line (spaces, quotes, newlines) is written
as a JSON string, so a text line is one line whatever a value holds.

Formatting is the handler's work: a line below the level costs one level check and nothing
is built for it. ``MODEL_GATEWAY_LOG_LEVEL`` and ``MODEL_GATEWAY_LOG_FORMAT`` configure every
component; the ``model-gateway`` command's ``--log-level`` and ``--log-format`` override them.
The module sits in the proxy package because that is the bottom layer every component may
import.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from proxy.environment import SettingsReader

LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS: Final = ("text", "json")
TEXT_LAYOUT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_BARE: Final = re.compile(r"[^\s\"=\\]+")  # a value written as is; anything else is quoted


@dataclass(frozen=True)
class LogSettings:
    """The level and format of every log line a process writes."""

    level: str = "INFO"
    format: str = "text"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogSettings:
        """``MODEL_GATEWAY_LOG_LEVEL`` and ``MODEL_GATEWAY_LOG_FORMAT``; both reported at once."""
        read = SettingsReader(env)
        defaults = cls()
        settings = cls(level=read.choice("LOG_LEVEL", defaults.level, choices=LOG_LEVELS),
                       format=read.choice("LOG_FORMAT", defaults.format, choices=LOG_FORMATS))
        read.finish()
        return settings


def _fields(record: logging.LogRecord) -> dict[str, Any] | None:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else None


def text_value(value: Any) -> str:
    """One field value as the text format writes it: bare when safe, else a JSON string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if _BARE.fullmatch(text) else json.dumps(text)


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger>: <message> key=value ...``: the JSON line's fields, in text."""

    def __init__(self) -> None:
        super().__init__(TEXT_LAYOUT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = _fields(record)
        if not fields:
            return line
        return line + " " + " ".join(f"{key}={text_value(value)}"
                                     for key, value in fields.items())


class JsonFormatter(logging.Formatter):
    """``{"time": ..., "level": ..., "logger": ..., "message": ..., <fields>}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": round(record.created, 3), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        }
        fields = _fields(record)
        if fields:
            for key, value in fields.items():
                line.setdefault(key, value)  # a field never replaces the line's own keys
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), default=str)


def formatter(settings: LogSettings) -> logging.Formatter:
    return JsonFormatter() if settings.format == "json" else TextFormatter()


def configure(settings: LogSettings) -> None:
    """Every line of this process on stderr, at ``settings.level``, in ``settings.format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
