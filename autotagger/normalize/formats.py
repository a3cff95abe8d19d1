"""Which image format some bytes are, by their magic numbers (never by the key's extension)."""

from __future__ import annotations

JPEG, PNG, GIF, WEBP, HEIF, AVIF = "JPEG", "PNG", "GIF", "WEBP", "HEIF", "AVIF"

# ISO base media file format brands (the `ftyp` box): HEIF image brands per ISO/IEC 23008-12 and
# the AV1 image brands of the AVIF specification (https://aomediacodec.github.io/av1-avif/).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def _ftyp_brands(data: bytes) -> list[bytes]:
    """Major and compatible brands of a leading `ftyp` box; [] when there is none."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return []
    size = int.from_bytes(data[0:4], "big")
    end = min(size if size >= 16 else 16, len(data))
    return [data[8:12]] + [data[i:i + 4] for i in range(16, end - 3, 4)]


def sniff(data: bytes) -> str | None:
    """The format name (the Pillow plugin that reads it), or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    brands = _ftyp_brands(data)
    if brands[:1] and brands[0] in _AVIF_BRANDS:
        return AVIF
    if brands[:1] and brands[0] in _HEIF_BRANDS:
        return HEIF
    if _AVIF_BRANDS.intersection(brands):  # a generic major brand (e.g. mif1) with AV1 content
        return AVIF
    if _HEIF_BRANDS.intersection(brands):
        return HEIF
    return None


def describe(data: bytes) -> str:
    """A short, safe description of unrecognised bytes for the dead letter's reason."""
    head = data[:16].lstrip()
    for signature, name in ((b"%PDF", "PDF"), (b"<svg", "SVG"), (b"<?xml", "XML"), (b"BM", "BMP"),
                            (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF")):
        if head.startswith(signature):
            return name
    if data[4:8] == b"ftyp":
        return f"ISO media of brand {data[8:12].decode('ascii', 'replace')!r}"
    return "unrecognised data"
