"""Log in and log out. The login form carries a CSRF token from an anonymous session (login CSRF would
otherwise let another site sign a victim into the attacker's account); logging in rotates the token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from collector.users import verify_login
from dashboard.auth import ForbiddenError, csrf_matches, load_user, new_session, safe_next
from dashboard.deps import CsrfUser, DbDep, StateDep
from dashboard.web import back, render

router = APIRouter()


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/investigations", status_code=303)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, db: DbDep, state: StateDep, next: str = "") -> Response:
    web = state.signer.read(request)
    if load_user(db, web) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    web = web if web is not None and web.user_id is None else new_session(None)
    response = render(request, state, "login.html", {"next": safe_next(next), "csrf": web.csrf, "error": ""})
    state.signer.write(request, response, web)
    return response


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    db: DbDep,
    state: StateDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    web = state.signer.read(request)
    if web is None or not csrf_matches(web.csrf, csrf_token):
        raise ForbiddenError("The login form expired. Reload the login page and try again.")
    username = username.strip()
    address = request.client.host if request.client else "-"
    wait = state.login_throttle.retry_after(username, address)
    if wait:
        error = f"Too many wrong passwords. Try again in {int(wait // 60) + 1} minutes."
        context = {"next": safe_next(next), "csrf": web.csrf, "error": error}
        return render(request, state, "login.html", context, status_code=429)
    user = verify_login(session=db, username=username, password=password)
    if user is None or user.id is None:
        state.login_throttle.failed(username, address)
        context = {"next": safe_next(next), "csrf": web.csrf, "error": "Wrong user name or password."}
        return render(request, state, "login.html", context, status_code=401)
    state.login_throttle.succeeded(username, address)
    response = RedirectResponse(safe_next(next), status_code=303)
    state.signer.write(request, response, new_session(user.id))
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, state: StateDep, _: CsrfUser) -> Response:
    response = back(request, state, "/login", "ok", "You are logged out.")
    state.signer.clear(response)
    return response
