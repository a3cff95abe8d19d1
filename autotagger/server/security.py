"""API-key check and browser hardening headers, as plain ASGI middleware.

Plain ASGI (rather than Starlette's BaseHTTPMiddleware) keeps request bodies streaming, so the
upload size limit is enforced while reading, and adds no per-request task overhead.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autotagger.local.read_adapters import SIGNED_PREFIX

API_KEY_HEADER = b"x-api-key"

# The dashboard is served from this origin with its own scripts and styles; nothing else runs.
DASHBOARD_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# FastAPI's interactive docs load Swagger UI / ReDoc from a CDN and run an inline bootstrap script.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")

_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else DASHBOARD_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _COMMON_HEADERS if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", csp.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ApiKeyMiddleware:
    """Refuses every request without the right `x-api-key` header (constant-time comparison), but
    the signed URLs (`/v1/_local/...`): their signature is their authorization, as a presigned S3
    URL's is, so an `<img src>` or a plain PUT can use them."""

    def __init__(self, app: ASGIApp, api_key: str):
        self.app = app
        self._key = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(SIGNED_PREFIX):
            await self.app(scope, receive, send)
            return
        supplied = b""
        for name, value in scope.get("headers", []):
            if name.lower() == API_KEY_HEADER:
                supplied = value
                break
        if not hmac.compare_digest(supplied, self._key):
            body = json.dumps({"error": "unauthorized",
                               "message": "missing or invalid API key (x-api-key header)"}).encode()
            await send({
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b"ApiKey")],
            })
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
