"""Follow the log files of one source through rotation, truncation and restarts.

`discover()` maps what is on disk to content identities: the files the globs match (active) and their
rotated siblings (`app.log.1`, `app.log-20240501`; never `.gz` and friends, so a compressed rotation
is not read again). An open file is followed by its inode (a rename changes nothing); a file met anew
is known by its fingerprint, and its saved offset is trusted only if the bytes before it are unchanged.
On the very first start files are positioned per `start_at` and rotated files are taken as read;
afterwards any unknown content is new and read from its beginning.

`read()` reads in large chunks, frames, parses and commits events together with the offset.
`settle()` completes records that saw no new data for the quiet time and closes finished files.
Data that vanished unread is reported (log warning and a counter), never ignored.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import time
from dataclasses import dataclass, field

import orjson

from agent.framing import Framer, LineFormat, RawRecord, looks_unfinished
from agent.identity import (
    FINGERPRINT_BYTES,
    TAIL_BYTES,
    event_id,
    fingerprint,
    identifiable,
    read_tail,
    successor,
)
from agent.parsing import Parser
from agent.spool import FileRow, Spool

log = logging.getLogger("pricelens_agent.tailer")
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4", ".Z")
PASS_BUDGET = 64 * 1024 * 1024
LOST_AFTER = 1.0


@dataclass(frozen=True, slots=True)
class Timing:
    chunk_bytes: int
    max_record_bytes: int
    quiet_time: float
    traceback_wait: float
    close_inactive: float


@dataclass
class Tracked:
    identity: str
    path: str
    fd: int
    dev: int
    ino: int
    framer: Framer
    active: bool
    size: int
    tail: bytes = b""
    last_data: float = field(default_factory=time.monotonic)

    @property
    def position(self) -> int:
        return self.framer.position


class Tailer:
    def __init__(
        self,
        *,
        service: str,
        host: str,
        patterns: tuple[str, ...],
        start_at: str,
        fmt: LineFormat,
        min_level: int,
        parser: Parser,
        spool: Spool,
        timing: Timing,
    ) -> None:
        self.service = service
        self._host = host
        self._patterns = patterns
        self._start_at = start_at
        self._fmt = fmt
        self._min = min_level
        self._parser = parser
        self._spool = spool
        self._t = timing
        self.tracked: dict[str, Tracked] = {}
        # Active files too young or too short to fingerprint: looked at again on their next change,
        # or at `identify_at`, when a short file has been quiet long enough.
        self.unidentified: set[str] = set()
        self.identify_at: float | None = None
        self._warned: set[str] = set()
        self._missing_since: dict[str, float] = {}

    # -- discovery --------------------------------------------------------------------------------
    def candidates(self) -> tuple[list[str], list[str]]:
        """Paths the globs match, and their rotated, uncompressed siblings."""
        active: set[str] = set()
        rotated: set[str] = set()
        for pattern in self._patterns:
            active.update(glob.glob(pattern))
            for suffix in (".*", "-*"):
                rotated.update(p for p in glob.glob(pattern + suffix) if not p.endswith(COMPRESSED))
        return sorted(active), sorted(rotated - active)

    def discover(self) -> None:
        """Match what is on disk to known content; follow files with unread data."""
        key = f"initialized:{self.service}"
        first = self._spool.get_meta(key) is None
        rows = {ident: row for (_, ident), row in self._spool.files(self.service).items()}
        by_inode = {(t.dev, t.ino): t for t in self.tracked.values()}
        active, rotated = self.candidates()
        seen_inodes: set[tuple[int, int]] = set()
        present: dict[str, tuple[str, int]] = {}
        self.unidentified = set()
        self.identify_at = None
        for path, is_active in [(p, True) for p in active] + [(p, False) for p in rotated]:
            st = self._stat(path)
            if st is None:
                continue
            seen_inodes.add((st.st_dev, st.st_ino))
            known = by_inode.get((st.st_dev, st.st_ino))
            if known is not None:
                known.path, known.active = path, is_active
                present[known.identity] = (path, st.st_size)
                continue
            ident = self._take_up(path, st, is_active, rows, first)
            if ident is not None:
                present[ident] = (path, st.st_size)
        for tracked in self.tracked.values():
            if (tracked.dev, tracked.ino) not in seen_inodes:
                tracked.active = False
        self._spool.touch_files((self.service, i, p, s) for i, (p, s) in present.items())
        self._account_lost(rows, present)
        if first:
            self._spool.set_meta(**{key: str(time.time())})

    def _stat(self, path: str) -> os.stat_result | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn_once(path, f"cannot read {path}: {exc.strerror}")
            return None
        if stat.S_ISDIR(st.st_mode):
            self._warn_once(path, f"{path} matches the log paths but is a directory; skipped")
            return None
        if not stat.S_ISREG(st.st_mode):
            self._warn_once(path, f"{path} is not a regular file; skipped")
            return None
        return st

    def _take_up(
        self, path: str, st: os.stat_result, is_active: bool, rows: dict[str, FileRow], first: bool
    ) -> str | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn_once(path, f"cannot open {path}: {exc.strerror}; will retry")
            return None
        self._warned.discard(path)
        keep = False
        try:
            head = os.pread(fd, FINGERPRINT_BYTES, 0)
            age = time.time() - st.st_mtime
            if not identifiable(head, age >= self._t.quiet_time):
                if is_active:
                    self.unidentified.add(path)
                    if b"\n" in head:
                        at = time.monotonic() + self._t.quiet_time - age
                        self.identify_at = at if self.identify_at is None else min(self.identify_at, at)
                return None
            ident, row = self._identify(head, rows)
            fp_len = len(head) if row is None else row.fp_len
            while row is not None and not _unchanged(fd, row):
                ident = successor(ident, row.offset)
                row = rows.get(ident)
            if ident in self.tracked:
                return ident
            if row is not None:
                offset = row.offset
            elif first:
                offset = 0 if is_active and self._start_at == "beginning" else st.st_size
                if offset:
                    offset = _line_start_before(fd, offset)
            else:
                offset = 0
            if row is None:
                self._spool.commit_read(
                    service=self.service,
                    identity=ident,
                    path=path,
                    offset=offset,
                    size=st.st_size,
                    tail=read_tail(fd, offset),
                    events=(),
                    fp_len=fp_len,
                )
            if offset >= st.st_size and not is_active:
                return ident
            before = read_tail(fd, offset)
            framer = Framer(self._fmt, self._min, offset, self._t.max_record_bytes, before)
            self.tracked[ident] = Tracked(
                ident,
                path,
                fd,
                st.st_dev,
                st.st_ino,
                framer,
                is_active,
                offset,
                before,
            )
            keep = True
            log.info("following %s (identity %s) from offset %d", path, ident, offset)
            return ident
        finally:
            if not keep:
                os.close(fd)

    @staticmethod
    def _identify(head: bytes, rows: dict[str, FileRow]) -> tuple[str, FileRow | None]:
        """The known content this file starts with (longest saved prefix first), else a new identity."""
        for length in sorted({r.fp_len for r in rows.values() if r.fp_len <= len(head)}, reverse=True):
            ident = fingerprint(head[:length])
            if ident in rows:
                return ident, rows[ident]
        return fingerprint(head), None

    def _account_lost(self, rows: dict[str, FileRow], present: dict[str, tuple[str, int]]) -> None:
        """Report content that vanished unread; a file must stay gone a while (renames are not atomic)."""
        now = time.monotonic()
        for ident, row in rows.items():
            if ident in present or ident in self.tracked or row.lost or row.offset >= row.size:
                self._missing_since.pop(ident, None)
                continue
            since = self._missing_since.setdefault(ident, now)
            if now - since < LOST_AFTER:
                continue
            lost = row.size - row.offset
            log.warning("DATA LOST: %s (identity %s) vanished with %d bytes unread", row.path, ident, lost)
            self._spool.mark_lost(self.service, ident, lost)
            self._missing_since.pop(ident, None)

    def _warn_once(self, path: str, message: str) -> None:
        if path not in self._warned:
            self._warned.add(path)
            log.warning("%s", message)

    # -- reading ----------------------------------------------------------------------------------
    def read(self) -> tuple[int, bool]:
        """Read what is new in every followed file: (events spooled, whether data is left unread)."""
        spooled = 0
        backlog = False
        for tracked in list(self.tracked.values()):
            n, more = self._read_file(tracked)
            spooled += n
            backlog = backlog or more
        return spooled, backlog

    def _read_file(self, t: Tracked) -> tuple[int, bool]:
        try:
            st = os.fstat(t.fd)
        except OSError:
            return 0, False
        if st.st_size == t.size and st.st_size == t.position:
            return 0, False
        if st.st_size < t.position or not self._tail_intact(t):
            log.info("%s was truncated or rewritten in place; looking for its rotated copy", t.path)
            self._close(t)
            self.discover()
            return 0, False
        t.size = st.st_size
        budget = PASS_BUDGET
        spooled = 0
        while t.position < st.st_size and budget > 0:
            if self._spool.is_full():
                return spooled, True
            data = os.pread(t.fd, min(self._t.chunk_bytes, st.st_size - t.position), t.position)
            if not data:
                break
            budget -= len(data)
            t.last_data = time.monotonic()
            t.tail = data[-64:] if len(data) >= 64 else (t.tail + data)[-64:]
            spooled += self._commit(t, t.framer.feed(data))
        return spooled, t.position < st.st_size

    def _tail_intact(self, t: Tracked) -> bool:
        if not t.tail:
            return True
        return os.pread(t.fd, len(t.tail), t.position - len(t.tail)) == t.tail

    def _commit(self, t: Tracked, records: list[RawRecord]) -> int:
        events = []
        for rec in records:
            eid = event_id(self._host, self.service, t.identity, rec.offset)
            events.append((eid, orjson.dumps(self._parser.parse(rec, event_id=eid, path=t.path))))
        offset = t.framer.committed
        tail = t.framer.tail_before_committed(TAIL_BYTES)
        self._spool.commit_read(
            service=self.service,
            identity=t.identity,
            path=t.path,
            offset=offset,
            size=t.size,
            tail=read_tail(t.fd, offset) if tail is None else tail,
            events=events,
        )
        return len(events)

    # -- completion and closing -------------------------------------------------------------------
    def settle(self) -> tuple[int, float | None]:
        """Complete quiet records and close finished files: (events spooled, next deadline)."""
        now = time.monotonic()
        spooled = 0
        deadline: float | None = None
        for t in list(self.tracked.values()):
            pending = t.framer.pending
            quiet = now - t.last_data
            if pending:
                wait = self._t.traceback_wait if looks_unfinished(pending) else self._t.quiet_time
                if quiet >= wait:
                    spooled += self._commit(t, t.framer.flush())
                else:
                    deadline = _earliest(deadline, t.last_data + wait)
            try:
                st = os.fstat(t.fd)
            except OSError:
                continue
            caught_up = st.st_size == t.position
            gone = st.st_nlink == 0
            wait = self._t.quiet_time if gone else self._t.close_inactive
            if caught_up and (gone or not t.active):
                if quiet >= wait:
                    spooled += self._commit(t, t.framer.flush(final=True))
                    log.info("finished %s (identity %s)%s", t.path, t.identity, " (deleted)" if gone else "")
                    self._close(t)
                else:
                    deadline = _earliest(deadline, t.last_data + wait)
        return spooled, deadline

    def _close(self, t: Tracked) -> None:
        self.tracked.pop(t.identity, None)
        os.close(t.fd)

    def close(self) -> None:
        for t in list(self.tracked.values()):
            self._close(t)

    def directories(self) -> set[str]:
        return {os.path.dirname(p) or "." for p in self._patterns}


def _unchanged(fd: int, row: FileRow) -> bool:
    """The bytes before the saved offset are those saved: the content was not replaced."""
    try:
        return os.fstat(fd).st_size >= row.offset and read_tail(fd, row.offset) == row.tail
    except OSError:
        return False


def _line_start_before(fd: int, offset: int) -> int:
    """Start of the line holding `offset - 1`, so `start_at: end` never begins mid-line."""
    start = max(0, offset - 65536)
    data = os.pread(fd, offset - start, start)
    nl = data.rfind(b"\n")
    return offset if nl == len(data) - 1 else (start + nl + 1 if nl >= 0 else offset)


def _earliest(a: float | None, b: float) -> float:
    return b if a is None else min(a, b)
