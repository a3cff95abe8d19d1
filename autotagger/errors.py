"""Errors named like the AWS services they stand in for.

The workflow names a failed task `Service.Code` (e.g. `Rekognition.InvalidImageFormatException`),
exactly as Step Functions names AWS SDK integration errors, so a local adapter raises a
`ServiceError` with the service and the AWS error code, and Retry/Catch in the ASL match the same
names on AWS and locally.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error a (real or stand-in) AWS service answers with."""

    service = "Autotagger"
    code = "ServiceException"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, service: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        if service is not None:
            self.service = service
        self.message = message

    @property
    def error_name(self) -> str:
        """The name Step Functions gives this error: `Service.Code`."""
        return f"{self.service}.{self.code}"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class RekognitionError(ServiceError):
    service = "Rekognition"


class InvalidImageFormatException(RekognitionError):
    code = "InvalidImageFormatException"


class ImageTooLargeException(RekognitionError):
    code = "ImageTooLargeException"


class InvalidParameterException(RekognitionError):
    code = "InvalidParameterException"


class InvalidS3ObjectException(RekognitionError):
    code = "InvalidS3ObjectException"


class ThrottlingException(RekognitionError):
    code = "ThrottlingException"
    retryable = True


class ProvisionedThroughputExceededException(RekognitionError):
    code = "ProvisionedThroughputExceededException"
    retryable = True


class InternalServerError(RekognitionError):
    code = "InternalServerError"
    retryable = True


class UserError(Exception):
    """A mistake by the person at the keyboard: shown as one line on stderr, never a traceback."""


class InvalidCursor(ValueError):
    """A pagination cursor that this index or service never issued (or no longer understands)."""
