"""Dashboard sessions, CSRF tokens and roles.

The session is a cookie signed with ``PRICELENS_SECRET_KEY`` (itsdangerous): HttpOnly so scripts cannot
read it, SameSite=Lax so other sites cannot ride it on a POST, Secure when served over HTTPS. It carries
only the user id and a random CSRF token; the user's role is read from the database on every request,
so disabling a user or changing a role takes effect at once. Even the login form has a CSRF token: an
anonymous session is issued when the login page is shown.

Failures raise :class:`LoginRequiredError` / :class:`ForbiddenError` rather than ``HTTPException``,
because the collector app maps ``HTTPException`` to JSON, and a person in a browser needs a redirect
or a page.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from collector.models import User

SESSION_COOKIE = "pl_session"
FLASH_COOKIE = "pl_flash"
SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequiredError(Exception):
    """No valid session: the browser is sent to the login page, then back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class ForbiddenError(Exception):
    """Logged in but not allowed (viewer acting, bad CSRF token): a 403 page that says why."""


@dataclass
class WebSession:
    user_id: int | None
    csrf: str


@dataclass
class CurrentUser:
    id: int
    username: str
    role: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class SessionSigner:
    """Signs and reads the session and flash cookies."""

    def __init__(self, secret: str) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="pricelens.dashboard.session")
        self._flash = URLSafeTimedSerializer(secret, salt="pricelens.dashboard.flash")

    def read(self, request: Request) -> WebSession | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._session.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        uid = data.get("uid")
        return WebSession(user_id=uid if isinstance(uid, int) else None, csrf=data["csrf"])

    def write(self, request: Request, response: Response, session: WebSession) -> None:
        value = self._session.dumps({"uid": session.user_id, "csrf": session.csrf})
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")

    def set_flash(self, request: Request, response: Response, kind: str, text: str) -> None:
        response.set_cookie(
            FLASH_COOKIE,
            self._flash.dumps([kind, text[:500]]),
            max_age=60,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def pop_flash(self, request: Request, response: Response) -> tuple[str, str] | None:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw:
            return None
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
        try:
            kind, text = self._flash.loads(raw, max_age=60)
        except (BadSignature, ValueError, TypeError):
            return None
        return str(kind), str(text)


def new_session(user_id: int | None) -> WebSession:
    return WebSession(user_id=user_id, csrf=secrets.token_urlsafe(32))


def load_user(db: Session, web: WebSession | None) -> CurrentUser | None:
    if web is None or web.user_id is None:
        return None
    user = db.get(User, web.user_id)
    if user is None or user.disabled or user.id is None:
        return None
    return CurrentUser(id=user.id, username=user.username, role=user.role, csrf=web.csrf)


def csrf_matches(expected: str | None, presented: str | None) -> bool:
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def safe_next(url: str | None) -> str:
    """Only same-site paths are followed after login (no ``//evil``, no ``https://…``)."""
    if not url or not url.startswith("/") or url.startswith("//") or url.startswith("/\\"):
        return "/investigations"
    return url
