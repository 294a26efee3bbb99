"""FastAPI dependencies of the dashboard: the database session, who is logged in, CSRF, the admin role.

Routes declare what they need (``Viewer`` to read, ``Actor`` for an admin action with a checked CSRF
token) and never repeat the checks themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collector.settings import Settings
from dashboard.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    CurrentUser,
    ForbiddenError,
    LoginRequiredError,
    SessionSigner,
    csrf_matches,
    load_user,
)
from dashboard.throttle import LoginThrottle

if TYPE_CHECKING:
    from dashboard.jobs import JobControl


@dataclass
class DashboardState:
    """What the dashboard keeps on ``app.state.dashboard``."""

    settings: Settings
    signer: SessionSigner
    templates: Jinja2Templates
    jobs: JobControl
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)


def get_state(request: Request) -> DashboardState:
    state: DashboardState = request.app.state.dashboard
    return state


def get_db(request: Request) -> Iterator[Session]:
    engine: Engine = request.app.state.engine
    with Session(engine, expire_on_commit=False) as session:
        yield session


StateDep = Annotated[DashboardState, Depends(get_state)]
DbDep = Annotated[Session, Depends(get_db)]


def viewer(request: Request, db: DbDep, state: StateDep) -> CurrentUser:
    """Any logged-in user; otherwise off to the login page (and back here afterwards)."""
    user = load_user(db, state.signer.read(request))
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(target if request.method == "GET" else "/investigations")
    request.state.user = user
    return user


async def csrf_checked(request: Request, user: Annotated[CurrentUser, Depends(viewer)]) -> CurrentUser:
    """A state-changing request must carry the session's CSRF token (form field or header)."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(user.csrf, presented):
        raise ForbiddenError(
            "This form has expired or did not come from the dashboard. Reload the page and retry."
        )
    return user


def admin_actor(user: Annotated[CurrentUser, Depends(csrf_checked)]) -> CurrentUser:
    if not user.is_admin:
        raise ForbiddenError(f"{user.username} is a viewer; only admins can change investigations and jobs.")
    return user


Viewer = Annotated[CurrentUser, Depends(viewer)]
CsrfUser = Annotated[CurrentUser, Depends(csrf_checked)]
Actor = Annotated[CurrentUser, Depends(admin_actor)]
