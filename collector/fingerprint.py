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

# A frame line: ``File "…", line …, in …``, preceded on its line by indentation or the ``|`` / ``+``
# gutter of an exception group. Matched from the line break before it, over text that starts with one;
# the function is the rest of the line, trailing blanks dropped (`_function`).
_FRAME_LINE = re.compile(r'\n[ \t|+-]*File "([^"\n]+)", line [^,\n]+, in ([^\n]+)')
# A header at the left margin (not inside a group's gutter) starts a traceback of the outermost chain.
_HEADER_TEXT = "Traceback (most recent call last):"
_HEADER_GUTTER = re.compile(r"[ \t+]*(?:Exception Group )?")
# Line boundaries of str.splitlines() other than "\n"; the ASCII ones are checked with ``in`` (faster
# than a search with the class when the text is ASCII, as tracebacks nearly always are).
_OTHER_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_ASCII_LINE_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")


def _has_other_line_breaks(text: str) -> bool:
    if text.isascii():
        return any(brk in text for brk in _ASCII_LINE_BREAKS)
    return _OTHER_LINE_BREAKS.search(text) is not None


def traceback_frames(traceback: str) -> list[str]:
    """The frames of a Python traceback as ``module:function``, outermost call first.

    With chained exceptions ("During handling of the above exception..." / "The above exception was
    the direct cause...") Python prints the exception that finally propagated last, so only the last
    traceback counts. The module is the file's name without directory or extension (``__init__`` and
    ``__main__`` are named after their package), so install paths do not matter. Consecutive repeats
    (deep recursion) count once, so the depth a recursion reached does not split a group.
    """
    text = traceback
    if 'File "' not in text:
        return []
    if _has_other_line_breaks(text):
        text = "\n".join(text.splitlines())
    start = 0
    at = text.find(_HEADER_TEXT)
    while at >= 0:
        line = text.rfind("\n", 0, at) + 1
        if _HEADER_GUTTER.fullmatch(text, line, at):
            start = line
        at = text.find(_HEADER_TEXT, at + 1)
    # One C call finds (file, function) of every frame line; what they become is cached by that list
    # (line numbers, code lines and the message, which vary between events of one failure, are not in it).
    found = _FRAME_LINE.findall("\n" + text[start:])
    return list(_frames(tuple(found)))


@lru_cache(maxsize=4096)
def _frames(found: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    frames: list[str] = []
    for file, function in found:
        frame = f"{_module_of(file)}:{_function(function)}"
        if not frames or frames[-1] != frame:
            frames.append(frame)
    return tuple(frames)


def _function(rest: str) -> str:
    """The function of a frame line: the rest of the line without trailing blanks (at least one character)."""
    return rest.rstrip(" \t") or rest[0]


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
    try:
        fast = orjson.dumps(parts)
    except orjson.JSONEncodeError:  # a lone surrogate: json.dumps escapes it
        fast = b"\\"
    if fast.isascii() and b"\\" not in fast and b"\x7f" not in fast:
        # Nothing escaped and nothing json.dumps would escape (non-ASCII, a control character or DEL, a
        # quote or backslash): orjson wrote exactly the bytes json.dumps below writes, in C.
        return hashlib.sha256(fast).hexdigest()
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
