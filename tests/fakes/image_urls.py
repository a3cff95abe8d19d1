"""`ports.ImageUrls` that names what it signed, so tests can see which object a URL is for."""

from __future__ import annotations

from typing import Any


class FakeImageUrls:
    def download_url(self, bucket: str, key: str, expires_in_s: int) -> str:
        return f"https://images.example/{bucket}/{key}?expires_in={expires_in_s}"

    def upload(self, key: str, content_type: str, size: int, expires_in_s: int) -> dict[str, Any]:
        return {"url": f"https://images.example/upload/{key}", "method": "PUT",
                "headers": {"Content-Type": content_type, "Content-Length": str(size)},
                "expires_at": "2026-11-27T12:15:00.000Z", "key": key}
