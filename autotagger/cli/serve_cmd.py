"""`autotagger serve`: the local pipeline behind its HTTP API (and the dashboard)."""

from __future__ import annotations

import argparse
import socket

from autotagger.config import DEFAULT_HOST, DEFAULT_PORT, is_loopback, resolve_api_key
from autotagger.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    from autotagger.cli.pipeline_cmds import add_pipeline_options

    serve = subparsers.add_parser("serve", help="run the local pipeline and its HTTP API",
                                  description="Runs the image-tagging pipeline and serves PUT /v1/{bucket}/{key}, "
                                              "the JSON API under /api and the dashboard.")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}); any "
                                                            "non-loopback address requires an API key")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    serve.add_argument("--api-key", default=None,
                       help="require this key in the x-api-key header (default: $AUTOTAGGER_API_KEY)")
    serve.add_argument("--seed-samples", action="store_true",
                       help="upload the sample photos shipped with scikit-image/scikit-learn when the bucket is empty")
    add_pipeline_options(serve)
    serve.set_defaults(func=_serve)


def _bind(host: str, port: int) -> socket.socket:
    """Binds before anything starts, so a busy port is one clear error instead of a log line."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be between 0 and 65535, not {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from autotagger.cli.pipeline_cmds import open_pipeline, settings_from_args
    from autotagger.server import create_app

    settings = settings_from_args(args)
    api_key = resolve_api_key(args.host, args.api_key)
    sock = _bind(args.host, args.port)
    try:
        with open_pipeline(settings) as pipeline:
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            print(f"autotagger: serving bucket {settings.bucket!r} from {settings.data_dir} on http://{shown}:{port} "
                  f"(labeler {settings.labeler}{', API key required' if api_key else ''})", flush=True)
            if args.seed_samples:
                from autotagger.local.samples import seed

                seeded = seed(pipeline)
                if seeded:
                    print(f"autotagger: tagging {len(seeded)} sample photos: {', '.join(seeded)}", flush=True)
            if not is_loopback(args.host):
                print("autotagger: listening beyond this machine; send the key in the x-api-key header", flush=True)
            config = uvicorn.Config(create_app(pipeline, api_key=api_key), log_level="info",
                                    proxy_headers=False, server_header=False)
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
