"""The local spool: one SQLite database (WAL) holding undelivered events and every file's read offset.

Events and the offset they were read up to are written in one transaction (`commit_read`), so after a
crash at any instant a record is either spooled with its offset or neither: nothing read is lost and
nothing is read twice. An event leaves `events` only when the collector acknowledged it (`ack`) or
rejected it (`dead_letter`, which keeps the body and the reason). The spool is bounded by bytes; the
reader asks `is_full()` and stops reading, leaving the log file as the buffer.

Each thread uses its own connection; the byte count is kept in memory behind a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    service TEXT NOT NULL, identity TEXT NOT NULL, path TEXT NOT NULL,
    offset INTEGER NOT NULL, size INTEGER NOT NULL, tail BLOB NOT NULL, seen REAL NOT NULL,
    lost INTEGER NOT NULL DEFAULT 0, fp_len INTEGER NOT NULL DEFAULT 1024,
    PRIMARY KEY (service, identity)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL, bytes INTEGER NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, body BLOB NOT NULL,
    error TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dir_files (
    service TEXT NOT NULL, dir TEXT NOT NULL, sha256 TEXT NOT NULL, path TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (service, dir, sha256)
);
"""


@dataclass(frozen=True, slots=True)
class FileRow:
    service: str
    identity: str
    path: str
    offset: int
    size: int
    tail: bytes
    seen: float
    lost: int
    fp_len: int


@dataclass(frozen=True, slots=True)
class Spooled:
    seq: int
    event_id: str
    body: bytes


class Spool:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._local = threading.local()
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        db = self._db()
        db.executescript(_SCHEMA)
        with db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,))
        self._bytes = int(db.execute("SELECT coalesce(sum(bytes), 0) FROM events").fetchone()[0])

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.isolation_level = "DEFERRED"
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- meta -------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, **values: str) -> None:
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    # -- files ------------------------------------------------------------------------------------
    def files(self, service: str | None = None) -> dict[tuple[str, str], FileRow]:
        query = "SELECT service, identity, path, offset, size, tail, seen, lost, fp_len FROM files"
        rows = self._db().execute(
            query + (" WHERE service = ?" if service else ""), (service,) if service else ()
        )
        return {(r[0], r[1]): FileRow(*r) for r in rows}

    def commit_read(
        self,
        *,
        service: str,
        identity: str,
        path: str,
        offset: int,
        size: int,
        tail: bytes,
        events: Sequence[tuple[str, bytes]],
        fp_len: int | None = None,
    ) -> None:
        """Spool events and move the file's offset in one transaction (`fp_len` registers a new file)."""
        now = time.time()
        with self._db() as db:
            added = 0
            for event_id, body in events:
                cur = db.execute(
                    "INSERT OR IGNORE INTO events (event_id, body, bytes, created) VALUES (?, ?, ?, ?)",
                    (event_id, body, len(body), now),
                )
                added += len(body) if cur.rowcount else 0
            if fp_len is not None:
                db.execute(
                    "INSERT OR REPLACE INTO files (service, identity, path, offset, size, tail, seen, fp_len)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (service, identity, path, offset, size, tail, now, fp_len),
                )
            else:
                db.execute(
                    "UPDATE files SET path = ?, offset = ?, size = ?, tail = ?, seen = ?"
                    " WHERE service = ? AND identity = ?",
                    (path, offset, size, tail, now, service, identity),
                )
        with self._lock:
            self._bytes += added

    def touch_files(self, rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Record that files were seen (service, identity, path, size) without moving offsets."""
        with self._db() as db:
            db.executemany(
                "UPDATE files SET path = ?, size = ?, seen = ? WHERE service = ? AND identity = ?",
                [(path, size, time.time(), service, identity) for service, identity, path, size in rows],
            )

    def mark_lost(self, service: str, identity: str, lost_bytes: int) -> None:
        with self._db() as db:
            db.execute("UPDATE files SET lost = 1 WHERE service = ? AND identity = ?", (service, identity))
            db.execute(
                "INSERT INTO meta VALUES ('lost_bytes', ?) ON CONFLICT(key) DO UPDATE SET value = value + ?",
                (str(lost_bytes), lost_bytes),
            )
            db.execute(
                "INSERT INTO meta VALUES ('lost_files', '1') ON CONFLICT(key) DO UPDATE SET value = value + 1"
            )

    def forget_files(self, older_than: float) -> int:
        with self._db() as db:
            return db.execute("DELETE FROM files WHERE seen < ?", (older_than,)).rowcount

    # -- error directories ------------------------------------------------------------------------
    def dir_file_seen(self, service: str, directory: str, sha256: str) -> bool:
        row = (
            self._db()
            .execute(
                "SELECT 1 FROM dir_files WHERE service = ? AND dir = ? AND sha256 = ?",
                (service, directory, sha256),
            )
            .fetchone()
        )
        return row is not None

    def commit_dir_file(
        self, *, service: str, directory: str, sha256: str, path: str, event: tuple[str, bytes] | None
    ) -> None:
        """Remember a content version of an error-directory file, spooling its event if any."""
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO dir_files VALUES (?, ?, ?, ?, ?)",
                (service, directory, sha256, path, time.time()),
            )
            added = 0
            if event is not None:
                cur = db.execute(
                    "INSERT OR IGNORE INTO events (event_id, body, bytes, created) VALUES (?, ?, ?, ?)",
                    (event[0], event[1], len(event[1]), time.time()),
                )
                added = len(event[1]) if cur.rowcount else 0
        with self._lock:
            self._bytes += added

    # -- delivery ---------------------------------------------------------------------------------
    def is_full(self) -> bool:
        return self._bytes >= self.max_bytes

    def depth(self) -> tuple[int, int]:
        count = int(self._db().execute("SELECT count(*) FROM events").fetchone()[0])
        return count, self._bytes

    def oldest_age(self) -> float | None:
        row = self._db().execute("SELECT min(created) FROM events").fetchone()
        return None if row[0] is None else time.time() - float(row[0])

    def batch(self, max_events: int, max_bytes: int) -> list[Spooled]:
        out: list[Spooled] = []
        total = 0
        rows = self._db().execute(
            "SELECT seq, event_id, body, bytes FROM events ORDER BY seq LIMIT ?", (max_events,)
        )
        for seq, event_id, body, size in rows:
            if out and total + size > max_bytes:
                break
            out.append(Spooled(seq, event_id, body))
            total += size
        return out

    def ack(self, seqs: Sequence[int]) -> None:
        self._remove(seqs, None)

    def dead_letter(self, items: Sequence[tuple[int, str]]) -> None:
        """Move rejected events (seq, reason) to the dead-letter table."""
        if items:
            self._remove([s for s, _ in items], dict(items))

    def _remove(self, seqs: Sequence[int], reasons: dict[int, str] | None) -> None:
        removed = 0
        with self._db() as db:
            for start in range(0, len(seqs), 500):
                chunk = list(seqs[start : start + 500])
                marks = ",".join("?" * len(chunk))
                if reasons:
                    now = time.time()
                    rows = db.execute(f"SELECT seq, event_id, body FROM events WHERE seq IN ({marks})", chunk)
                    db.executemany(
                        "INSERT INTO dead_letters (event_id, body, error, at) VALUES (?, ?, ?, ?)",
                        [(eid, body, reasons[seq], now) for seq, eid, body in rows.fetchall()],
                    )
                removed += int(
                    db.execute(
                        f"SELECT coalesce(sum(bytes), 0) FROM events WHERE seq IN ({marks})", chunk
                    ).fetchone()[0]
                )
                db.execute(f"DELETE FROM events WHERE seq IN ({marks})", chunk)
        with self._lock:
            self._bytes -= removed

    def dead_letters(self, limit: int = 20) -> tuple[int, list[tuple[str, str, float]]]:
        db = self._db()
        count = int(db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
        rows = db.execute("SELECT event_id, error, at FROM dead_letters ORDER BY seq DESC LIMIT ?", (limit,))
        return count, [(str(a), str(b), float(c)) for a, b, c in rows]
