"""`autotagger serve` with the fast labeler behind the Labeler port, for crash and load tests.

Run as `python -m tests.robustness.fake_server --data-dir D [--fault SPEC ...] [--workers N]`;
everything but the labeler is the real server: the same pipeline, app, socket binding and the
same "serving ... on http://..." line. Port 0 (a free port), loopback only.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    import uvicorn

    from autotagger.cli.serve_cmd import _bind
    from autotagger.config import Settings
    from autotagger.local.runtime import Pipeline
    from autotagger.server import create_app
    from tests.fakes import FakeLabeler, fake_analysers

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, workers=args.workers, faults=tuple(args.fault))
    sock = _bind("127.0.0.1", 0)
    try:
        with Pipeline(settings, labeler=FakeLabeler(model_version="fast-1"), **fake_analysers()) as pipeline:
            host, port = sock.getsockname()[:2]
            print(f"autotagger: serving bucket {settings.bucket!r} from {settings.data_dir} on http://{host}:{port} "
                  f"(labeler fast)", flush=True)
            config = uvicorn.Config(create_app(pipeline), log_level="warning", proxy_headers=False,
                                    server_header=False)
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


if __name__ == "__main__":
    main()
