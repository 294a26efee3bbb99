"""API tokens: created once and shown once; only a SHA-256 of the token is stored.

Tokens are 32 random bytes, so a fast hash is enough (no password stretching needed) and lookups stay
a single indexed equality on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from collector.models import ApiToken

SCOPES = ("ingest", "admin")
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_PREFIX = "pl_"  # noqa: S105 (a marker, not a secret)


class TokenError(ValueError):
    """A token request that cannot be carried out (bad scope, duplicate name, …)."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the token's name, scope and optional service binding."""

    name: str
    scope: str
    service: str | None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    *, session: Session, name: str, scope: str, service: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the plain token, which is never stored."""
    if scope not in SCOPES:
        raise TokenError(f"scope must be one of {', '.join(SCOPES)}")
    if not name or len(name) > 100:
        raise TokenError("name must be 1..100 characters")
    if session.exec(select(ApiToken).where(ApiToken.name == name)).first() is not None:
        raise TokenError(f"a token named {name!r} already exists")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        scope=scope,
        service=service or None,
        token_hash=hash_token(plain),
        prefix=plain[:10],
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row, plain


def list_tokens(*, session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.created_at))).all())


def revoke_token(*, session: Session, name: str) -> ApiToken:
    row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if row is None:
        raise TokenError(f"no token named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.flush()
    return row


def authenticate(*, session: Session, token: str) -> Principal | None:
    """The principal for a presented token, or None when it is unknown or revoked.

    Also records when the token was last used, to the minute (the caller commits), so ``token list``
    shows which tokens are still in use before one is revoked.
    """
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.add(row)
        session.flush()
    return Principal(name=row.name, scope=row.scope, service=row.service)


class PrincipalCache:
    """Authenticated principals remembered for ``ttl`` seconds, keyed by the token's hash.

    Saves a database round trip (and a pooled connection) on every request. The price: revoking a
    token takes effect within ``ttl`` seconds, not instantly. Unknown and revoked tokens are never
    cached, so a newly created token works at once.
    """

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        self._now = time.monotonic

    def cached(self, token: str) -> Principal | None:
        """The principal for ``token`` if it was authenticated less than ``ttl`` seconds ago."""
        hit = self._entries.get(hash_token(token))
        if hit is not None and hit[0] > self._now():
            return hit[1]
        return None

    def put(self, token: str, found: Principal | None) -> Principal | None:
        """Remember what the database said about ``token`` (forget it when unknown or revoked)."""
        key = hash_token(token)
        with self._lock:
            if found is None:
                self._entries.pop(key, None)
            else:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (self._now() + self.ttl, found)
        return found
