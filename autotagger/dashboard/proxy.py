"""The dashboard pointed at a deployment: the same page, its API calls forwarded server-side.

`create_proxy_app(api_url, api_key)` serves the dashboard page (`autotagger.dashboard.mount`) and
forwards every other request to the API, with the same path under the API's root: the page calls
`/v1/images` on its own origin and `https://<api>/v1/images` answers it. The API key is added here,
on the server, from `AUTOTAGGER_API_KEY`: the browser never sees it (and cannot be asked to send
it, since the page is same-origin with the proxy and needs no CORS).

Bodies are streamed both ways (an upload goes to the API as it arrives; an image comes back as it
is read), and the API's status, headers and error JSON reach the page unchanged. When the API
cannot be reached the page gets the API's error shape with 502 (or 504 on a timeout).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from autotagger.dashboard import mount

API_KEY_HEADER = "x-api-key"
API_BASE = "/v1"
"""What the `--api` URL ends with; the page's calls keep their full path under the API's root."""

# RFC 9110 section 7.6.1: connection-specific fields are not forwarded by a proxy; Host is the
# target's, and the key is set only by the proxy itself.
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade",
})
_NOT_FROM_BROWSER = _HOP_BY_HOP | {"host", API_KEY_HEADER, "cookie", "authorization"}
_NOT_TO_BROWSER = _HOP_BY_HOP | {"set-cookie"}

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
# API Gateway answers within 29 s; uploads of large images may take longer to send.
TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=300.0, pool=10.0)


def api_root(api_url: str) -> str:
    """The URL the page's paths are appended to: `https://host/stage-prefix` for `https://host/stage-prefix/v1`."""
    parts = urlsplit(api_url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--api must be an http(s) URL ending in {API_BASE}, not {api_url!r}")
    if not parts.path.endswith(API_BASE):
        raise ValueError(f"--api must end in {API_BASE} (the API's base URL, e.g. the ApiUrl output), "
                         f"not {api_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"--api takes no query or fragment: {api_url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path[: -len(API_BASE)]}"


def _error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"error": code, "message": message}), status_code=status,
                    media_type="application/json")


def create_proxy_app(api_url: str, api_key: str | None, *,
                     transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The dashboard app forwarding to `api_url` (`https://…/v1`) with `api_key` in `x-api-key`."""
    root = api_root(api_url)
    state: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client:
            state["client"] = client
            yield

    app = FastAPI(title="autotagger dashboard", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    mount(app)

    @app.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def forward(request: Request, path: str) -> Response:  # `path` is decoded: the raw one is forwarded
        client = state["client"]
        # The raw path keeps percent-escapes as sent (an object key's %2F must stay one segment).
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = root + raw_path.decode("latin-1")
        if request.url.query:
            target += "?" + request.url.query
        headers = [(name, value) for name, value in request.headers.items() if name.lower() not in _NOT_FROM_BROWSER]
        if api_key:
            headers.append((API_KEY_HEADER, api_key))
        has_body = request.method not in ("GET", "HEAD", "OPTIONS") or "content-length" in request.headers
        upstream_request = client.build_request(
            request.method, target, headers=headers, content=request.stream() if has_body else None)
        try:
            upstream = await client.send(upstream_request, stream=True)
        except httpx.TimeoutException as exc:
            return _error(504, "gateway_timeout", f"the API at {api_url} did not answer in time: {exc}")
        except httpx.HTTPError as exc:
            return _error(502, "bad_gateway", f"the API at {api_url} cannot be reached: {exc}")
        response_headers = {name: value for name, value in upstream.headers.multi_items()
                            if name.lower() not in _NOT_TO_BROWSER}
        return StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code, headers=response_headers,
                                 background=BackgroundTask(upstream.aclose))

    return app
