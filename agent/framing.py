"""Cut a byte stream into log records, keeping only the ones at or above the level filter.

Pure: no I/O. A `Framer` is fed the bytes of one file in order and returns `RawRecord`s, each with the
absolute offset of its first line (the basis of the event id) and `committed`, the offset from which
reading must resume after a restart so that nothing is framed twice or skipped.

Speed comes from never looking at most lines: the chunk is searched with `bytes.find` for the level
names that can start an interesting record, and only those lines (and the continuation lines that
follow them, e.g. a traceback) are examined one by one. Memory is bounded: a record longer than
`max_record_bytes` is cut and marked truncated, and an overlong line is skipped, never held whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRACEBACK_HEADER = b"Traceback (most recent call last):"
CHAIN_LINES = (
    b"During handling of the above exception, another exception occurred:",
    b"The above exception was the direct cause of the following exception:",
)


@dataclass(frozen=True, slots=True)
class LineFormat:
    """How a record's first line looks: `start` matches at the start of such a line only.

    `level_group` names the group holding the level (`default_level` applies when it is absent);
    `markers` are byte strings of which at least one occurs in the first line of every record that
    passes the level filter (None: any record may).
    """

    start: re.Pattern[bytes]
    level_group: str | None
    markers: tuple[bytes, ...] | None
    level_of: dict[bytes, int]
    default_level: int


@dataclass(frozen=True, slots=True)
class RawRecord:
    offset: int
    data: bytes
    truncated: bool


def looks_unfinished(data: bytes) -> bool:
    """True when the record visibly stops inside a traceback, so a slow writer is given more time."""
    last = data.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    if TRACEBACK_HEADER not in data:
        return False
    return (
        not last.strip()
        or last[:1] in (b" ", b"\t")
        or last.startswith(TRACEBACK_HEADER)
        or last.strip() in CHAIN_LINES
    )


class Framer:
    """Incremental framer for one file. Feed bytes in order; read `committed` after each call."""

    def __init__(
        self, fmt: LineFormat, min_level: int, offset: int, max_record_bytes: int, before: bytes = b""
    ) -> None:
        self._fmt = fmt
        self._min = min_level
        self._max = max_record_bytes
        self._buf = bytearray()
        self._base = offset
        self._pos = 0
        self._rec: int | None = None
        self._hold: int | None = None
        self._in_truncated = False
        self._skip_line = False
        self._before = before

    def tail_before_committed(self, n: int) -> bytes | None:
        """The `n` bytes before `committed` as they were read (None if no longer held)."""
        at = self.committed - self._base
        if at < 0:
            return None
        data = self._before + bytes(self._buf[:at])
        if len(data) < n and self.committed > len(data):
            return None
        return data[-n:] if n else b""

    @property
    def committed(self) -> int:
        if self._rec is not None:
            return self._base + self._rec
        if self._hold is not None:
            return self._hold
        return self._base + self._pos

    @property
    def position(self) -> int:
        """Offset just past the last byte fed."""
        return self._base + len(self._buf)

    @property
    def pending(self) -> bytes | None:
        """The complete lines of the record waiting for its end, if any."""
        if self._rec is None:
            return None
        return bytes(self._buf[self._rec : self._pos])

    def feed(self, data: bytes) -> list[RawRecord]:
        self._buf += data
        out: list[RawRecord] = []
        if self._skip_line and not self._finish_skip():
            return out
        self._scan(out)
        self._cap(out)
        self._trim()
        return out

    def flush(self, final: bool = False) -> list[RawRecord]:
        """End the pending record at the last complete line (quiet time elapsed).

        `final` also takes a last line without newline: the file will not grow again.
        """
        out: list[RawRecord] = []
        if final and not self._skip_line and self._pos < len(self._buf):
            starts = self._level_ok(self._pos)
            if starts is not None:
                out += self._emit_pending()
                if starts:
                    self._rec = self._pos
            self._pos = len(self._buf)
        out += self._emit_pending()
        if final:
            self._hold = None
            self._in_truncated = False
        self._trim()
        return out

    def _emit_pending(self) -> list[RawRecord]:
        if self._rec is None or self._pos <= self._rec:
            return []
        rec = RawRecord(
            self._base + self._rec, bytes(self._buf[self._rec : self._pos]).rstrip(b"\r\n"), False
        )
        self._rec = None
        return [rec]

    def _level_ok(self, at: int) -> bool | None:
        """None if the line at `at` does not start a record, else whether it passes the filter."""
        m = self._fmt.start.match(self._buf, at)
        if m is None:
            return None
        name = m.group(self._fmt.level_group) if self._fmt.level_group else None
        if name is None:
            return self._fmt.default_level >= self._min
        return self._fmt.level_of.get(name.upper(), 0) >= self._min

    def _scan(self, out: list[RawRecord]) -> None:
        buf = self._buf
        limit = buf.rfind(b"\n") + 1
        hits: dict[bytes, int] = {}
        while self._pos < limit:
            if self._rec is not None or self._in_truncated:
                if not self._walk_record(out, limit):
                    return
                continue
            hit = self._next_hit(hits, limit)
            if hit < 0:
                self._pos = limit
                return
            ls = buf.rfind(b"\n", self._pos, hit) + 1 or self._pos
            line_end = buf.find(b"\n", hit) + 1
            if self._level_ok(ls):
                self._rec = ls
            self._pos = line_end

    def _next_hit(self, hits: dict[bytes, int], limit: int) -> int:
        markers = self._fmt.markers
        if markers is None:
            return self._pos
        best = -1
        for marker in markers:
            at = hits.get(marker, -2)
            if at != -1 and at < self._pos:
                at = self._buf.find(marker, self._pos, limit)
                hits[marker] = at
            if at >= 0 and (best < 0 or at < best):
                best = at
        return best

    def _walk_record(self, out: list[RawRecord], limit: int) -> bool:
        """Advance through continuation lines; False when the buffer ends inside the record."""
        buf = self._buf
        p = self._pos
        while p < limit:
            starts = self._level_ok(p)
            if starts is not None:
                if self._rec is not None:
                    out.append(
                        RawRecord(self._base + self._rec, bytes(buf[self._rec : p]).rstrip(b"\r\n"), False)
                    )
                self._rec = None
                self._in_truncated = False
                self._hold = None
                self._pos = p
                return True
            p = buf.find(b"\n", p) + 1
            if self._rec is not None and p - self._rec > self._max:
                self._truncate(out, self._rec)
        self._pos = p
        return False

    def _truncate(self, out: list[RawRecord], start: int) -> None:
        out.append(RawRecord(self._base + start, bytes(self._buf[start : start + self._max]), True))
        self._hold = self._base + start
        self._rec = None
        self._in_truncated = True

    def _cap(self, out: list[RawRecord]) -> None:
        """Bound the buffer: an incomplete line longer than the record cap is cut here."""
        tail = self._buf.rfind(b"\n") + 1
        if len(self._buf) - tail <= self._max:
            return
        starts = self._level_ok(tail)
        if self._rec is not None and starts is not None:
            out.append(
                RawRecord(self._base + self._rec, bytes(self._buf[self._rec : tail]).rstrip(b"\r\n"), False)
            )
            self._rec = None
        if self._rec is not None:
            self._truncate(out, self._rec)
        elif starts is not None:
            self._in_truncated = False
            self._hold = None
            if starts:
                self._truncate(out, tail)
            else:
                self._hold = self._base + tail
        elif not self._in_truncated:
            self._hold = self._base + tail
        self._skip_line = True
        self._drop_all()

    def _finish_skip(self) -> bool:
        nl = self._buf.find(b"\n")
        if nl < 0:
            self._drop_all()
            return False
        self._skip_line = False
        self._pos = nl + 1
        if not self._in_truncated:
            self._hold = None
        return True

    def _drop_all(self) -> None:
        self._before = (self._before + bytes(self._buf[-64:]))[-64:]
        self._base += len(self._buf)
        self._buf.clear()
        self._pos = 0

    def _trim(self) -> None:
        keep = self._rec if self._rec is not None else self._pos
        if keep:
            self._before = (self._before + bytes(self._buf[max(0, keep - 64) : keep]))[-64:]
            del self._buf[:keep]
            self._base += keep
            self._pos -= keep
            if self._rec is not None:
                self._rec = 0
