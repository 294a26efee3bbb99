"""The default fingerprint: which investigation an event belongs to (contract.md, "Grouping").

An event's fingerprint is a list of parts: ``service``, ``kind``, the supplier (``-`` when there is
none) and then the first of these that applies:

1. the error type and the traceback's frames as ``module:function``;
2. the error type and the normalised message;
3. the normalised message.

Frames carry neither line numbers nor install paths, so the same failure still groups after an edit that
shifts lines or a deploy to another virtualenv. The supplier is always a part because each supplier is
its own conversation: the same error for two suppliers is two investigations. The parts are stored so
the dashboard can show why events were grouped; their hash is the investigation's key.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache

import orjson

from collector.normalise import first_line, normalise_message

__all__ = [
    "DEFAULT_PLACEHOLDER",
    "default_fingerprint",
    "fingerprint_hash",
    "make_title",
    "resolve_fingerprint",
    "traceback_frames",
]

DEFAULT_PLACEHOLDER = "{{ default }}"
_DEFAULT_ELEMENT = re.compile(r"\{\{\s*default\s*\}\}")

# A frame line: ``File "…", line …, in …``, searched for over the whole text from its literal start
# (fast); the text before it on its line must be indentation, or the ``|`` / ``+`` gutter of an exception
# group (``_FRAME_GUTTER``). MULTILINE: ``$`` is a line end.
_FRAME = re.compile(r'File "(?P<file>[^"\n]+)", line [^,\n]+, in (?P<function>[^\n]+?)[ \t]*$', re.MULTILINE)
_FRAME_GUTTER = re.compile(r"[ \t|+-]*")
# A header at the left margin (not inside a group's gutter) starts a traceback of the outermost chain.
_HEADER_TEXT = "Traceback (most recent call last):"
_HEADER_GUTTER = re.compile(r"[ \t+]*(?:Exception Group )?")
# Line boundaries of str.splitlines() other than "\n".
_OTHER_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def traceback_frames(traceback: str) -> list[str]:
    """The frames of a Python traceback as ``module:function``, outermost call first.

    With chained exceptions ("During handling of the above exception..." / "The above exception was
    the direct cause...") Python prints the exception that finally propagated last, so only the last
    traceback counts. The module is the file's name without directory or extension (``__init__`` and
    ``__main__`` are named after their package), so install paths do not matter. Consecutive repeats
    (deep recursion) count once, so the depth a recursion reached does not split a group.
    """
    text = traceback
    if _OTHER_LINE_BREAKS.search(text):
        text = "\n".join(text.splitlines())
    # Nothing after the last frame's line changes the frames (unless a new traceback starts there), and
    # the text up to it is the same for every event of one failure (the message comes after): cached.
    last = text.rfind('File "')
    if last < 0:
        return []
    end = text.find("\n", last)
    if end < 0:
        end = len(text)
    if _HEADER_TEXT in text[end:]:
        return list(_frames(text))
    return list(_frames(text[:end]))


@lru_cache(maxsize=2048)
def _frames(text: str) -> tuple[str, ...]:
    start = 0
    at = text.find(_HEADER_TEXT)
    while at >= 0:
        line = text.rfind("\n", 0, at) + 1
        if _HEADER_GUTTER.fullmatch(text, line, at):
            start = line
        at = text.find(_HEADER_TEXT, at + 1)
    frames: list[str] = []
    for match in _FRAME.finditer(text, start):
        if not _FRAME_GUTTER.fullmatch(text, text.rfind("\n", 0, match.start()) + 1, match.start()):
            continue
        frame = f"{_module_of(match.group('file'))}:{match.group('function')}"
        if not frames or frames[-1] != frame:
            frames.append(frame)
    return tuple(frames)


@lru_cache(maxsize=4096)  # a service has a bounded set of source files; this runs for every frame
def _module_of(file: str) -> str:
    if file.startswith("<") and file.endswith(">"):  # <string>, <stdin>, <frozen runpy>
        return file
    parts = [part for part in re.split(r"[\\/]", file) if part]
    if not parts:
        return file
    stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    if stem in ("__init__", "__main__") and len(parts) > 1:
        return parts[-2] if stem == "__init__" else f"{parts[-2]}.{stem}"
    return stem


def default_fingerprint(
    *,
    service: str,
    kind: str,
    supplier: str | None,
    error_type: str | None,
    message: str,
    traceback: str | None,
) -> list[str]:
    """The fingerprint parts contract.md prescribes for an event without a custom ``fingerprint``."""
    parts = [service, kind, supplier or "-"]
    frames = traceback_frames(traceback) if error_type and traceback else []
    if error_type and frames:
        return [*parts, error_type, *frames]
    if error_type:
        return [*parts, error_type, normalise_message(message)]
    return [*parts, normalise_message(message)]


def resolve_fingerprint(custom: list[str] | None, default: list[str]) -> list[str]:
    """An event's own ``fingerprint``, with each ``{{ default }}`` element replaced by the default parts.

    No custom fingerprint (``None`` or empty) means the default.
    """
    if not custom:
        return list(default)
    parts: list[str] = []
    for element in custom:
        if _DEFAULT_ELEMENT.fullmatch(element.strip()):
            parts.extend(default)
        else:
            parts.append(element)
    return parts


def fingerprint_hash(parts: list[str]) -> str:
    """SHA-256 (64 hex digits) of the parts, encoded so that no two different lists collide.

    JSON keeps the boundaries: ``["a b", "c"]`` and ``["a", "b c"]`` hash differently.
    """
    if all(part.isascii() and part.isprintable() for part in parts):
        # Printable ASCII: orjson writes exactly the bytes json.dumps below writes, in C.
        return hashlib.sha256(orjson.dumps(parts)).hexdigest()
    encoded = json.dumps(parts, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def make_title(error_type: str | None, message: str, max_len: int = 200) -> str:
    """``error_type: first line of the message`` as it first appeared (values not replaced), cut to max_len.

    The line is the one grouping looks at (see `collector.normalise.first_line`); a message that
    already starts with its type is not prefixed twice; a cut ends in ``…``.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1 (got {max_len})")
    line = first_line(message)
    if error_type and line and not (line == error_type or line.startswith(f"{error_type}:")):
        title = f"{error_type}: {line}"
    else:  # no type, no message, or a message that already starts with its type
        title = line or error_type or ""
    if len(title) <= max_len:
        return title
    return title[: max_len - 1].rstrip() + "…"
