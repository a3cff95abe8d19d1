"""The local HTTP API (FastAPI), served by `autotagger serve`."""

from autotagger.server.app import create_app

__all__ = ["create_app"]
