"""The local dashboard: one static page (HTML, CSS, ES modules) that reads the server's JSON API.

`mount(app)` serves the page at `/` and its assets under `/static`. Everything the page needs,
the chart libraries included, ships inside this package (static/vendor/), so it works offline.
FastAPI is imported inside `mount`, keeping `import autotagger.dashboard` dependency-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).parent / "static"
INDEX_HTML = STATIC_DIR / "index.html"


def mount(app: Any) -> None:
    """Adds `GET /` (the dashboard page) and `/static/*` (its assets) to a FastAPI app."""
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")

    @app.get("/", include_in_schema=False)
    def dashboard_page() -> FileResponse:
        return FileResponse(INDEX_HTML, media_type="text/html", headers={"Cache-Control": "no-cache"})
