"""Why an original cannot be normalised. The class name is the error's name: Lambda reports an
unhandled exception's class as `errorType`, and Step Functions names the failed task by it
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html), so the dead
letter says e.g. `CorruptImage` with the message as its cause, on AWS and locally alike."""

from __future__ import annotations


class NormalizeError(Exception):
    """An original no retry can fix: it ends as a dead letter with this reason."""


class UnsupportedImageFormat(NormalizeError):
    """The bytes are not JPEG, PNG, GIF, WebP, HEIC/HEIF or AVIF (whatever the key's extension says)."""


class ImageTooLarge(NormalizeError):
    """Over MAX_SOURCE_BYTES, or the header declares more than MAX_SOURCE_PIXELS (a decompression bomb)."""


class ImageTooSmall(NormalizeError):
    """Under Rekognition's 80 px on a side once upright: enlarging would only invent pixels."""


class CorruptImage(NormalizeError):
    """Truncated or damaged data that the decoder gives up on."""


class SourceObjectMissing(NormalizeError):
    """The original is gone (deleted before it was normalised; its delete event follows)."""
