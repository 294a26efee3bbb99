"""Rendering a page and answering a form: templates with the common context, security headers,
flash messages, and POST-redirect-GET so a reload never repeats an action."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dashboard.auth import CurrentUser
from dashboard.deps import DashboardState

# Defence in depth behind autoescaping: no inline script, no foreign origins, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(
    request: Request,
    state: DashboardState,
    template: str,
    context: dict[str, Any],
    *,
    user: CurrentUser | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = HTMLResponse("", status_code=status_code, headers=SECURITY_HEADERS)
    flash = state.signer.pop_flash(request, response)
    body = state.templates.get_template(template).render(
        {
            "csrf": user.csrf if user else "",
            **context,
            "request": request,
            "user": user,
            "flash": flash,
            "clickhouse_configured": bool(state.settings.clickhouse_url),
        }
    )
    response.body = response.render(body)
    response.headers["content-length"] = str(len(response.body))
    return response


def back(
    request: Request, state: DashboardState, url: str, kind: str = "ok", text: str = ""
) -> RedirectResponse:
    """303 to ``url`` with an optional one-time message."""
    response = RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
    if text:
        state.signer.set_flash(request, response, kind, text)
    return response


def return_to(target: str | None, fallback: str) -> str:
    """Where a form came from (its ``next`` field), if that is a dashboard path."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback
