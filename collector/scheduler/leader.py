"""One scheduler leads: a Postgres session-level advisory lock held on a dedicated connection.

``pg_try_advisory_lock`` never blocks, so standbys poll it; Postgres releases the lock the moment the
leader's connection ends — a killed process included — and the next poll of a standby wins it. The
connection is in autocommit so the leader never sits "idle in transaction". Embedded SQLite means one
process by design, so :class:`NoElection` simply says yes.
"""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


class NoElection:
    """Single-process databases: always the leader."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


class AdvisoryLockElection:
    def __init__(self, database_url: str, key: int) -> None:
        self._engine = sa.create_engine(database_url, poolclass=NullPool, connect_args={"connect_timeout": 5})
        self._key = key
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self._conn.execute(sa.select(sa.func.pg_try_advisory_lock(self._key))).scalar()
        except sa.exc.DBAPIError as exc:
            log.warning("scheduler leader election: database unavailable (%s)", exc.orig)
            self._drop()
            return False
        return bool(got)

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.select(1))
        except sa.exc.DBAPIError:
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(self._key)))
            self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.close()
            self._conn = None


def election_for(database_url: str, key: int) -> NoElection | AdvisoryLockElection:
    if database_url.startswith("postgresql"):
        return AdvisoryLockElection(database_url, key)
    return NoElection()
