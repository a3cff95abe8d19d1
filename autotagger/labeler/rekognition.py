"""The AWS Labeler: Rekognition DetectLabels through boto3, errors renamed like the local ones.

A botocore ClientError becomes an autotagger.errors ServiceError with service "Rekognition" and
the AWS error code, the known codes as their own classes (InvalidImageFormatException, ...), so
callers and the workflow's Retry/Catch see the same names whichever labeler ran.
"""

from __future__ import annotations

from typing import Any

from autotagger import errors

_ERRORS_BY_CODE = {cls.code: cls for cls in (
    errors.InvalidImageFormatException, errors.ImageTooLargeException, errors.InvalidParameterException,
    errors.InvalidS3ObjectException, errors.ThrottlingException,
    errors.ProvisionedThroughputExceededException, errors.InternalServerError)}
_RETRYABLE_CODES = {"ServiceUnavailableException", "LimitExceededException", "RequestTimeout"}


def service_error(exc: Exception) -> errors.ServiceError:
    """The autotagger ServiceError for a botocore error."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ServiceException"
        message = error.get("Message") or str(exc)
        cls = _ERRORS_BY_CODE.get(code)
        if cls is not None:
            return cls(message)
        converted = errors.RekognitionError(message, code=code)
        converted.retryable = code in _RETRYABLE_CODES
        return converted
    if isinstance(exc, BotoCoreError):
        converted = errors.RekognitionError(str(exc), code=type(exc).__name__)
        converted.retryable = True  # connection problems, timeouts
        return converted
    raise TypeError(f"not a botocore error: {exc!r}")


class RekognitionLabeler:
    """Calls Rekognition with image bytes or an S3 object; answers the response as AWS sends it."""

    # Rekognition names its model only in each answer ("LabelModelVersion", DetectLabels API
    # reference: https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html).
    model_version: str | None = None

    def __init__(self, client: Any = None, region_name: str | None = None):
        if client is None:
            import boto3
            from botocore.exceptions import NoRegionError

            try:
                client = boto3.client("rekognition", region_name=region_name)
            except NoRegionError:
                raise errors.UserError("no AWS region configured for Rekognition: set AWS_REGION "
                                       "(or AWS_DEFAULT_REGION, or a profile's region)") from None
        self.client = client

    def _call(self, image: dict[str, Any], max_labels: int, min_confidence: float) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.detect_labels(Image=image, MaxLabels=max_labels, MinConfidence=min_confidence)
        except (ClientError, BotoCoreError) as exc:
            raise service_error(exc) from exc
        response.pop("ResponseMetadata", None)
        return response

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        return self._call({"Bytes": bytes(image_bytes)}, max_labels, min_confidence)

    def detect_labels_s3(self, bucket: str, key: str, max_labels: int = 100, min_confidence: float = 55.0,
                         version: str | None = None) -> dict[str, Any]:
        s3_object = {"Bucket": bucket, "Name": key}
        if version:
            s3_object["Version"] = version
        return self._call({"S3Object": s3_object}, max_labels, min_confidence)
