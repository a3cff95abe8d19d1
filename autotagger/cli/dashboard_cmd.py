"""`autotagger dashboard --api https://…/v1`: the dashboard pointed at a deployment's API."""

from __future__ import annotations

import argparse
import os

from autotagger.config import API_KEY_ENV, DEFAULT_HOST, DEFAULT_PORT, is_loopback
from autotagger.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    dashboard = subparsers.add_parser(
        "dashboard", help="serve the dashboard for a deployed API (the key stays on this machine)",
        description="Serves the dashboard page and forwards its calls to the API at --api, adding the key "
                    f"from ${API_KEY_ENV} (header x-api-key) on this side, so the browser never holds it.")
    dashboard.add_argument("--api", required=True,
                           help="the API's base URL ending in /v1 (the stack's ApiUrl output, or "
                                "http://127.0.0.1:8080/v1 for `autotagger serve`)")
    dashboard.add_argument("--host", default=DEFAULT_HOST,
                           help=f"address to bind (default {DEFAULT_HOST}); anyone who reaches it uses the key")
    dashboard.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    dashboard.set_defaults(func=_dashboard)


def _dashboard(args: argparse.Namespace) -> int:
    import uvicorn

    from autotagger.cli.serve_cmd import _bind
    from autotagger.dashboard.proxy import create_proxy_app

    api_key = os.environ.get(API_KEY_ENV) or None
    try:
        app = create_proxy_app(args.api, api_key)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    sock = _bind(args.host, args.port)
    try:
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"autotagger: dashboard on http://{shown}:{port} for the API at {args.api.rstrip('/')} "
              f"({'with the key from $' + API_KEY_ENV if api_key else 'without a key: $' + API_KEY_ENV + ' is unset'})",
              flush=True)
        if not is_loopback(args.host):
            print("autotagger: listening beyond this machine: whoever reaches this port acts with the API key",
                  flush=True)
        config = uvicorn.Config(app, log_level="info", proxy_headers=False, server_header=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
