"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a stream per request)."""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]
CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
# The consent page's form ends in a redirect to the app's own origin.
CSP_AUTHORIZE = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
)
STATIC = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds security headers, and flags emergency / regulator accesses on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        csp = CSP_AUTHORIZE if scope["path"].startswith("/oauth/authorize") else CSP

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in STATIC if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                actor = state.get("actor")
                mode = getattr(getattr(actor, "mode", None), "value", "normal")
                if mode != "normal" and message["status"] < 400:
                    headers.append((b"x-carnet-access-mode", mode.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
