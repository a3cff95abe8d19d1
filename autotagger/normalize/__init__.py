"""Normalisation: any photo a phone, camera or the web makes -> an upright JPEG Rekognition reads.

`images.normalize(bytes)` is the transform, `handler.make_handler(store_for)` the Lambda handler
around it (deployed from `functions/normalize/`, run in-process by the local runtime), `errors`
the reasons a dead letter gives.
"""

from .errors import (
                     CorruptImage,
                     ImageTooLarge,
                     ImageTooSmall,
                     NormalizeError,
                     SourceObjectMissing,
                     UnsupportedImageFormat,
)
from .handler import make_handler
from .images import Normalized, normalize

__all__ = ["CorruptImage", "ImageTooLarge", "ImageTooSmall", "NormalizeError", "Normalized", "SourceObjectMissing",
           "UnsupportedImageFormat", "make_handler", "normalize"]
