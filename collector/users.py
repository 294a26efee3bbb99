"""Dashboard users: argon2 password hashes, roles ``viewer`` (reads) and ``admin`` (acts)."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from collector.models import User

ROLES = ("viewer", "admin")
_hasher = PasswordHasher()


class UserError(ValueError):
    """A user request that cannot be carried out."""


def create_user(*, session: Session, username: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    username = username.strip()
    if not username or len(username) > 100:
        raise UserError("username must be 1..100 characters")
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(
        username=username, password_hash=_hasher.hash(password), role=role, created_at=datetime.now(UTC)
    )
    session.add(user)
    session.flush()
    return user


def set_password(*, session: Session, username: str, password: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"no user {username!r}")
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    user.password_hash = _hasher.hash(password)
    session.add(user)
    session.flush()
    return user


def verify_login(*, session: Session, username: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled, else None."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.disabled:
        _hasher.hash(password)  # same cost either way: no user enumeration by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user
