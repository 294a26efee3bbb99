"""Error directories: a file that appears there (a price list that failed to load) is one event.

The event carries path, size, mtime and sha256, the supplier from the path, and as message the first
64 KiB of a sibling reason file (`name.err`, `name.txt`, ...; the reason file itself is no event).
A content version is sent once: the directory remembers the sha256s it has seen, so a rename within
the directory is not a new event. A file is taken only once it stopped changing for the settle time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from agent.identity import file_event_id
from agent.parsing import Parser
from agent.spool import Spool

log = logging.getLogger("pricelens_agent.errordirs")
REASON_BYTES = 64 * 1024


class ErrorDirs:
    def __init__(
        self,
        *,
        service: str,
        host: str,
        dirs: tuple[str, ...],
        reason_suffixes: tuple[str, ...],
        send_existing: bool,
        parser: Parser,
        spool: Spool,
        settle: float,
    ) -> None:
        self.service = service
        self._host = host
        self._dirs = dirs
        self._suffixes = reason_suffixes
        self._send_existing = send_existing
        self._parser = parser
        self._spool = spool
        self._settle = settle
        self._done: dict[str, tuple[int, int]] = {}
        self._warned: set[str] = set()

    def directories(self) -> set[str]:
        return set(self._dirs)

    def scan(self) -> tuple[int, float | None]:
        """Spool events for new files: (events spooled, monotonic time of the next useful scan)."""
        key = f"initialized_dirs:{self.service}"
        first = self._spool.get_meta(key) is None
        spooled = 0
        deadline: float | None = None
        for directory in self._dirs:
            entries = self._list(directory)
            names = {e.name for e in entries}
            for entry in entries:
                if self._is_reason(entry.name, names):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or self._done.get(entry.path) == (st.st_size, st.st_mtime_ns):
                    continue
                age = time.time() - st.st_mtime
                if age < self._settle and not first:
                    wait = time.monotonic() + self._settle - age
                    deadline = wait if deadline is None else min(deadline, wait)
                    continue
                spooled += self._take(directory, entry.path, st, names, send=self._send_existing or not first)
        if first:
            self._spool.set_meta(**{key: str(time.time())})
        return spooled, deadline

    def _list(self, directory: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except FileNotFoundError:
            return []
        except OSError as exc:
            if directory not in self._warned:
                self._warned.add(directory)
                log.warning("cannot list error directory %s: %s", directory, exc.strerror)
            return []
        self._warned.discard(directory)
        return entries

    def _is_reason(self, name: str, names: set[str]) -> bool:
        """`x.xlsx.err` always is; `x.txt` only next to another `x.*` (else it is a rejected file)."""
        for suffix in self._suffixes:
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                if "." in base or base in names or any(n != name and n.startswith(base + ".") for n in names):
                    return True
        return False

    def _reason_file(self, path: str, names: set[str]) -> str | None:
        p = Path(path)
        for suffix in self._suffixes:
            for candidate in (p.name + suffix, p.stem + suffix):
                if candidate != p.name and candidate in names:
                    return str(p.with_name(candidate))
        return None

    def _take(self, directory: str, path: str, st: os.stat_result, names: set[str], *, send: bool) -> int:
        try:
            digest = _sha256(path)
        except OSError as exc:
            log.warning("cannot read %s: %s; will retry", path, exc.strerror)
            return 0
        self._done[path] = (st.st_size, st.st_mtime_ns)
        if self._spool.dir_file_seen(self.service, directory, digest):
            return 0
        event = None
        if send:
            body = self._event(path, st, digest, self._reason_file(path, names))
            event = (body["event_id"], orjson.dumps(body))
        self._spool.commit_dir_file(
            service=self.service, directory=directory, sha256=digest, path=path, event=event
        )
        return 1 if event else 0

    def _event(self, path: str, st: os.stat_result, digest: str, reason_path: str | None) -> dict[str, Any]:
        name = os.path.basename(path)
        message = f"file rejected: {name}"
        if reason_path is not None:
            try:
                with open(reason_path, "rb") as f:
                    message = f.read(REASON_BYTES).decode("utf-8", errors="replace").strip() or message
            except OSError as exc:
                log.warning("cannot read reason file %s: %s", reason_path, exc.strerror)
        supplier, _ = self._parser.extract(message, path)
        mtime = datetime.fromtimestamp(st.st_mtime, UTC)
        event: dict[str, Any] = {
            "service": self.service,
            "host": self._host,
            "event_id": file_event_id(self._host, path, st.st_size, st.st_mtime_ns, digest),
            "kind": "file_rejected",
            "level": "ERROR",
            "message": message,
            "timestamp": mtime.isoformat(),
            "file": name,
            "extra": {
                "path": path,
                "size": st.st_size,
                "mtime": mtime.isoformat(),
                "sha256": digest,
                "reason_file": reason_path,
            },
        }
        if supplier:
            event["supplier"] = supplier
        return event


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
