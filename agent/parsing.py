"""Turn framed records into contract events: formats, levels, tracebacks, supplier and file.

Pure: no I/O. `line_format()` builds the byte-level description the framer searches with (from a
Python logging layout, a JSON-lines convention or a user regex with named groups); `Parser.parse()`
decodes one record (invalid UTF-8 becomes U+FFFD, never an exception) into the dict that is shipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from agent.framing import CHAIN_LINES, TRACEBACK_HEADER, LineFormat, RawRecord

LEVELS: dict[str, int] = {
    "DEBUG": 10,
    "INFO": 20,
    "NOTICE": 25,
    "WARN": 30,
    "WARNING": 30,
    "ERROR": 40,
    "CRITICAL": 50,
    "FATAL": 50,
}
CANONICAL = {10: "DEBUG", 20: "INFO", 25: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}
DEFAULT_LAYOUT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"

_TIMESTAMP = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_FIELD = re.compile(r"%\((\w+)\)([-#0 +]*\d*(?:\.\d+)?)[sdfrxXeEgGi]")
_FIELD_RE = {
    "asctime": rf"(?P<timestamp>{_TIMESTAMP})",
    "name": r"(?P<logger>.+?)",
    "message": r"(?P<message>.*)",
    "levelno": r"\d+",
    "lineno": r"\d+",
    "process": r"\d+",
    "thread": r"\d+",
}
_EXC_LINE = re.compile(r"(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<text>.*))?\Z")
_JSON_KEYS = {
    "message": ("message", "msg"),
    "level": ("level", "levelname", "severity"),
    "timestamp": ("timestamp", "@timestamp", "time", "asctime", "ts"),
    "logger": ("logger", "name", "logger_name"),
    "traceback": ("traceback", "exc_info", "exception", "stack_trace"),
    "error_type": ("error_type", "exc_type"),
}


def layout_regex(layout: str) -> str:
    """Regex (str) for the first line of a record written with a logging `Formatter` layout."""
    out: list[str] = []
    last = 0
    for m in _FIELD.finditer(layout):
        out.append(re.escape(layout[last : m.start()]))
        name, width = m.group(1), m.group(2)
        if name == "levelname":
            out.append(r"(?P<level>[A-Za-z]+)" + (r" *" if width else ""))
        else:
            out.append(_FIELD_RE.get(name, r".*?"))
        last = m.end()
    out.append(re.escape(layout[last:]))
    return "".join(out)


def _level_context(layout: str) -> tuple[str, str]:
    """Literal text right around `%(levelname)s`: longer needles make `bytes.find` skip faster."""
    fields = list(_FIELD.finditer(layout))
    for i, m in enumerate(fields):
        if m.group(1) != "levelname":
            continue
        prev_end = fields[i - 1].end() if i else 0
        next_start = fields[i + 1].start() if i + 1 < len(fields) else len(layout)
        before = layout[max(prev_end, m.start() - 3) : m.start()]
        after = "" if m.group(2) else layout[m.end() : min(next_start, m.end() + 3)]
        return before, after
    return "", ""


def level_number(name: str) -> int:
    return LEVELS[name.upper()]


def line_format(kind: str, *, layout: str, pattern: str | None, min_level: int) -> LineFormat:
    """The framer's view of a format: what starts a record and which bytes mark interesting ones."""
    names = [n for n, v in LEVELS.items() if v >= min_level]
    level_of = {n.encode(): v for n, v in LEVELS.items()}
    if kind == "json":
        start = re.compile(rb'[ \t]*\{(?:.*?"(?:level|levelname|severity)"\s*:\s*"(?P<level>[A-Za-z]+)")?')
        markers = tuple(v.encode() for n in names for v in (n, n.lower(), n.capitalize()))
        return LineFormat(start, "level", markers, level_of, default_level=0)
    regex = layout_regex(layout) if kind == "python" else (pattern or "")
    compiled = re.compile(regex.encode())
    if "level" not in compiled.groupindex:
        return LineFormat(compiled, None, None, level_of, default_level=LEVELS["ERROR"])
    if kind == "python":
        before, after = _level_context(layout)
        markers = tuple(f"{before}{n}{after}".encode() for n in names if n in CANONICAL.values())
    else:
        markers = tuple(v.encode() for n in names for v in (n, n.lower()))
    return LineFormat(compiled, "level", markers, level_of, default_level=0)


def iso_timestamp(raw: str) -> str | None:
    """ISO 8601 with offset; a time without offset is the host's local time, as logging writes it."""
    try:
        parsed = datetime.fromisoformat(raw.replace(",", ".").replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.isoformat()


def split_traceback(lines: list[str]) -> tuple[list[str], list[str]]:
    """Message continuation lines and traceback lines (from the first traceback header on)."""
    for i, line in enumerate(lines):
        if line.startswith(TRACEBACK_HEADER.decode()):
            return lines[:i], lines[i:]
    return lines, []


def error_type_of(traceback: list[str]) -> str | None:
    """The final exception's type: the first unindented line after the last traceback header."""
    header = TRACEBACK_HEADER.decode()
    chains = {c.decode() for c in CHAIN_LINES}
    found: str | None = None
    in_frames = False
    for line in traceback:
        if line.startswith(header):
            in_frames = True
            continue
        if in_frames and line and not line[0].isspace() and line.strip() not in chains:
            in_frames = False
            m = _EXC_LINE.match(line)
            found = m.group("type") if m else found
    return found


@dataclass(frozen=True, slots=True)
class ParseSpec:
    service: str
    host: str
    kind: str
    first_line: re.Pattern[str] | None
    supplier_pattern: re.Pattern[str] | None
    supplier_from_path: re.Pattern[str] | None
    file_pattern: re.Pattern[str] | None
    default_level: str


class Parser:
    def __init__(self, spec: ParseSpec) -> None:
        self._spec = spec

    def parse(self, record: RawRecord, *, event_id: str, path: str) -> dict[str, Any]:
        text = record.data.decode("utf-8", errors="replace")
        fields = self._json(text) if self._spec.kind == "json" else self._text(text)
        event: dict[str, Any] = {
            "service": self._spec.service,
            "host": self._spec.host,
            "event_id": event_id,
            "kind": "error",
            "message": fields.get("message") or text.split("\n", 1)[0],
            "level": _level_name(fields.get("level"), self._spec.default_level),
        }
        for key in ("timestamp", "logger", "error_type", "traceback"):
            if fields.get(key):
                event[key] = fields[key]
        supplier, file = self.extract(f"{event['message']}\n{fields.get('traceback') or ''}", path)
        if supplier:
            event["supplier"] = supplier
        if file:
            event["file"] = file
        extra: dict[str, Any] = {"path": path, "offset": record.offset}
        if record.truncated:
            extra["truncated"] = True
        event["extra"] = extra
        return event

    def extract(self, text: str, path: str) -> tuple[str | None, str | None]:
        """Supplier and price-list file from the message/traceback, else from the path."""
        spec = self._spec
        supplier = _group(spec.supplier_pattern, text, "supplier") or _group(
            spec.supplier_from_path, path, "supplier"
        )
        file = _group(spec.file_pattern, text, "file")
        return supplier, file

    def _text(self, text: str) -> dict[str, str | None]:
        first, _, rest = text.partition("\n")
        m = self._spec.first_line.match(first) if self._spec.first_line else None
        groups = {k: v for k, v in m.groupdict().items() if v is not None} if m else {}
        message_lines, tb_lines = split_traceback(rest.split("\n") if rest else [])
        message = groups.get("message", first)
        if message_lines:
            message = "\n".join([message, *message_lines]).rstrip()
        out: dict[str, str | None] = {
            "message": message,
            "level": groups.get("level"),
            "logger": groups.get("logger"),
            "timestamp": iso_timestamp(groups["timestamp"]) if "timestamp" in groups else None,
        }
        if tb_lines:
            out["traceback"] = "\n".join(tb_lines).rstrip()
            out["error_type"] = error_type_of(tb_lines)
        return out

    def _json(self, text: str) -> dict[str, str | None]:
        try:
            obj = orjson.loads(text.strip())
        except orjson.JSONDecodeError:
            return {"message": text}
        if not isinstance(obj, dict):
            return {"message": text}
        out: dict[str, str | None] = {}
        for field, keys in _JSON_KEYS.items():
            for key in keys:
                value = obj.get(key)
                if value is not None and value != "":
                    out[field] = value if isinstance(value, str) else orjson.dumps(value).decode()
                    break
        if out.get("timestamp"):
            out["timestamp"] = iso_timestamp(str(out["timestamp"]))
        if out.get("traceback") and not out.get("error_type"):
            out["error_type"] = error_type_of(str(out["traceback"]).split("\n"))
        return out


def _level_name(raw: str | None, default: str) -> str:
    if raw and raw.upper() in LEVELS:
        return CANONICAL[LEVELS[raw.upper()]]
    return default


def _group(pattern: re.Pattern[str] | None, text: str, name: str) -> str | None:
    if pattern is None:
        return None
    m = pattern.search(text)
    return m.group(name) if m and m.group(name) else None
