"""The local stand-ins behind the workflow's Task resource ARNs.

Each adapter takes the task's resolved `Parameters` and answers with the response shape of the
AWS API the ARN names (so `ResultSelector` paths in the ASL work unchanged), raising
`autotagger.errors.ServiceError`s named like the AWS errors the ASL's Retry/Catch match.
"""

from __future__ import annotations

import hashlib
import json
import threading
import traceback
from collections.abc import Callable
from typing import Any

from autotagger.contracts import DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE
from autotagger.errors import InvalidParameterException, InvalidS3ObjectException, ServiceError
from autotagger.ports import DeadLetters, Labeler, ModerationDetector, ObjectStore, RecordStream, TextDetector

DETECT_LABELS_ARN = "arn:aws:states:::aws-sdk:rekognition:detectLabels"
DETECT_TEXT_ARN = "arn:aws:states:::aws-sdk:rekognition:detectText"
DETECT_MODERATION_LABELS_ARN = "arn:aws:states:::aws-sdk:rekognition:detectModerationLabels"
PUT_RECORD_ARN = "arn:aws:states:::aws-sdk:kinesis:putRecord"
SEND_MESSAGE_ARN = "arn:aws:states:::sqs:sendMessage"
LAMBDA_INVOKE_ARN = "arn:aws:states:::lambda:invoke"
DELETE_OBJECT_ARN = "arn:aws:states:::aws-sdk:s3:deleteObject"

LambdaHandler = Callable[[dict[str, Any], Any], Any]

TaskAdapter = Callable[[dict[str, Any]], dict[str, Any]]

# Rekognition's own words when it cannot read the S3 object.
_UNREADABLE_S3_OBJECT = "Unable to get object metadata from S3. Check object key, region and/or access permissions."


def _image_from_bucket(bucket: ObjectStore, parameters: dict[str, Any]) -> bytes:
    """The bytes of `Image.S3Object` in the local bucket, or the error Rekognition gives."""
    s3_object = (parameters.get("Image") or {}).get("S3Object") or {}
    name = s3_object.get("Name")
    if not isinstance(name, str) or not name:
        raise InvalidParameterException("Image.S3Object.Name must be a non-empty string")
    if s3_object.get("Bucket") != bucket.name:
        raise InvalidS3ObjectException(f"{_UNREADABLE_S3_OBJECT} (bucket {s3_object.get('Bucket')!r})")
    try:
        return bucket.get(name)
    except KeyError:
        raise InvalidS3ObjectException(f"{_UNREADABLE_S3_OBJECT} (no object {name!r})") from None
    except ValueError as exc:
        raise InvalidS3ObjectException(f"{_UNREADABLE_S3_OBJECT} ({exc})") from None


def detect_labels_adapter(bucket: ObjectStore, labeler: Labeler) -> TaskAdapter:
    """Rekognition DetectLabels with `Image.S3Object` read from the local bucket."""

    def detect_labels(parameters: dict[str, Any]) -> dict[str, Any]:
        image = _image_from_bucket(bucket, parameters)
        return labeler.detect_labels(
            image,
            max_labels=_number(parameters, "MaxLabels", int, 100),
            min_confidence=_number(parameters, "MinConfidence", float, 55.0),
        )

    return detect_labels


def detect_text_adapter(bucket: ObjectStore, detector: TextDetector) -> TaskAdapter:
    """Rekognition DetectText with `Image.S3Object` read from the local bucket.

    DetectText's optional `Filters` (WordFilter, RegionsOfInterest) are refused rather than
    ignored: the local detector does not apply them, and an answer that silently skipped them
    would differ from Rekognition's."""

    def detect_text(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("Filters") is not None:
            raise InvalidParameterException("Filters are not supported by the local text detector")
        return detector.detect_text(_image_from_bucket(bucket, parameters))

    return detect_text


def detect_moderation_labels_adapter(bucket: ObjectStore, detector: ModerationDetector) -> TaskAdapter:
    """Rekognition DetectModerationLabels with `Image.S3Object` read from the local bucket;
    `MinConfidence` defaults to Rekognition's 50. `HumanLoopConfig` and `ProjectVersion` (human
    review, custom adapters) are AWS-only and refused."""

    def detect_moderation_labels(parameters: dict[str, Any]) -> dict[str, Any]:
        for unsupported in ("HumanLoopConfig", "ProjectVersion"):
            if parameters.get(unsupported) is not None:
                raise InvalidParameterException(f"{unsupported} is not supported by the local moderation detector")
        image = _image_from_bucket(bucket, parameters)
        return detector.detect_moderation_labels(
            image, min_confidence=_number(parameters, "MinConfidence", float, DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE))

    return detect_moderation_labels


def put_record_adapter(stream: RecordStream, stream_name: str) -> TaskAdapter:
    """Kinesis PutRecord; `Data` arrives as the JSON text the workflow built and is stored as UTF-8."""

    def put_record(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("StreamName") != stream_name:
            raise ServiceError(f"Stream {parameters.get('StreamName')!r} not found", service="Kinesis",
                               code="ResourceNotFoundException")
        data = parameters.get("Data")
        partition_key = parameters.get("PartitionKey")
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, bytes) or not data:
            raise ServiceError("Data must be a non-empty string or blob", service="Kinesis", code="ValidationException")
        if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= 256:
            raise ServiceError("PartitionKey must be 1 to 256 characters", service="Kinesis",
                               code="ValidationException")
        return dict(stream.put_record(data, partition_key))

    return put_record


def send_message_adapter(queue: DeadLetters, queue_url: str) -> TaskAdapter:
    """SQS SendMessage to the workflow's dead-letter queue."""

    def send_message(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("QueueUrl") != queue_url:
            raise ServiceError(f"The specified queue {parameters.get('QueueUrl')!r} does not exist", service="SQS",
                               code="QueueDoesNotExist")
        body = parameters.get("MessageBody")
        if not isinstance(body, str) or not body:
            raise ServiceError("MessageBody must be a non-empty string", service="SQS", code="InvalidParameterValue")
        message_id = queue.send(body)
        return {"MessageId": message_id, "MD5OfMessageBody": hashlib.md5(body.encode("utf-8")).hexdigest()}

    return send_message


class LambdaFunctionError(ServiceError):
    """A function raised: Step Functions names the task's error after the function's `errorType`
    (the exception class), with the error object as JSON text for its cause
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""

    def __init__(self, error: BaseException):
        error_type = type(error).__name__
        super().__init__(json.dumps({"errorMessage": str(error), "errorType": error_type,
                                     "stackTrace": traceback.format_tb(error.__traceback__)}), code=error_type)

    @property
    def error_name(self) -> str:
        return self.code


def lambda_invoke_adapter(functions: dict[str, LambdaHandler], context_for: Callable[[str], Any]) -> TaskAdapter:
    """The optimized Lambda integration, with the functions' handlers called in-process.

    Answers like Step Functions does: `{"ExecutedVersion", "Payload", "StatusCode"}` with the
    handler's result as JSON in `Payload`; an unknown function is `Lambda.ResourceNotFoundException`."""

    def invoke(parameters: dict[str, Any]) -> dict[str, Any]:
        name = parameters.get("FunctionName")
        handler = functions.get(name) if isinstance(name, str) else None
        if handler is None or not isinstance(name, str):
            raise ServiceError(f"Function not found: {name}", service="Lambda", code="ResourceNotFoundException")
        payload = parameters.get("Payload", {})
        try:
            result = handler(json.loads(json.dumps(payload)), context_for(name))
        except Exception as exc:
            raise LambdaFunctionError(exc) from exc
        return {"ExecutedVersion": "$LATEST", "Payload": json.loads(json.dumps(result)), "StatusCode": 200}

    return invoke


def delete_object_adapter(bucket: ObjectStore) -> TaskAdapter:
    """S3 DeleteObject on the local bucket: like S3, deleting an absent key succeeds."""

    def delete_object(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("Bucket") != bucket.name:
            raise ServiceError(f"The specified bucket {parameters.get('Bucket')!r} does not exist", service="S3",
                               code="NoSuchBucketException")
        key = parameters.get("Key")
        if not isinstance(key, str) or not key:
            raise ServiceError("Key must be a non-empty string", service="S3", code="SdkClientException")
        bucket.delete(key)
        return {}

    return delete_object


def _number(parameters: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = parameters.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameterException(f"{name} must be a number, not {value!r}")
    return kind(value)


class AnalyserSlots:
    """At most `slots` analyser calls (DetectLabels, DetectText, DetectModerationLabels) at once,
    however many executions are in flight.

    The analysers are the CPU-heavy steps, so their concurrency is what `workers` sizes (one call
    per core); the three branches of one execution's Parallel share the same slots as every other
    execution's calls. The workflow itself gets more threads than that, so while one execution
    writes its history or puts its record, another one's analyser call can already use the freed core.
    """

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError("the analysers need at least one slot")
        self._slots = threading.BoundedSemaphore(slots)

    def __enter__(self) -> None:
        self._slots.acquire()

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


class BoundedLabeler:
    """The labeler, within `slots` (a count of its own, or slots shared with the other analysers)."""

    def __init__(self, labeler: Labeler, slots: int | AnalyserSlots):
        if isinstance(slots, int) and slots < 1:
            raise ValueError("a labeler needs at least one slot")
        self._labeler = labeler
        self._slots = AnalyserSlots(slots) if isinstance(slots, int) else slots

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        with self._slots:
            return self._labeler.detect_labels(image_bytes, max_labels=max_labels, min_confidence=min_confidence)


class BoundedTextDetector:
    """A text detector within shared analyser slots, built by `factory` on its first call (loading
    an analyser is paid once, and only by a runtime whose workflow asks for text)."""

    def __init__(self, factory: Callable[[], TextDetector], slots: AnalyserSlots):
        self._factory = factory
        self._slots = slots

    def detect_text(self, image_bytes: bytes) -> dict[str, Any]:
        detector = self._factory()
        with self._slots:
            return detector.detect_text(image_bytes)


class BoundedModerationDetector:
    """A moderation detector within shared analyser slots, built by `factory` on its first call."""

    def __init__(self, factory: Callable[[], ModerationDetector], slots: AnalyserSlots):
        self._factory = factory
        self._slots = slots

    def detect_moderation_labels(self, image_bytes: bytes,
                                 min_confidence: float = DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE) -> dict[str, Any]:
        detector = self._factory()
        with self._slots:
            return detector.detect_moderation_labels(image_bytes, min_confidence=min_confidence)
