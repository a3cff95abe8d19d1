"""Every fact the AWS stack (`cdk/`) and the local runtime must agree on, stated once.

Plain data and small functions over the standard library only: CDK imports this module at
synth time, the local runtime at run time, and the indexer Lambda asset bundles it (through the
OpenSearch adapter). `tests/cdk/test_cdk_contracts.py` reads the synthesized template back and
checks that it says what this module says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# -- the workflow definition ---------------------------------------------------------------------

ASL_FILE = Path(__file__).resolve().parents[1] / "statemachine" / "image_tagging.asl.json"
"""The workflow definition: deployed to Step Functions as-is, run as-is by the local engine (in a
source checkout; an installed package is pointed at it with AUTOTAGGER_STATE_MACHINE)."""

# -- where the local stand-ins live ---------------------------------------------------------------

LOCAL_ACCOUNT = "000000000000"
LOCAL_REGION = "local"
"""Account and region of the local events and ARNs: LocalStack's conventional account and a region
name no AWS region has, so a local ARN is never mistaken for a real one."""

STATE_MACHINE_NAME = "image-tagging"
STREAM_NAME = "image-tagging-records"
WORKFLOW_DLQ_NAME = "image-tagging-dlq"
INDEXER_DLQ_NAME = "image-indexer-dlq"
TAGGING_RULE_NAME = "image-tagging"
NORMALIZE_FUNCTION_NAME = "image-normalize"
"""The names the local runtime gives its stand-ins. On AWS, CloudFormation generates the physical
names (so two stacks can share an account); the stack outputs say which they are."""


def state_machine_arn(name: str, *, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def execution_arn(state_machine: str, name: str, *, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    return f"arn:aws:states:{region}:{account}:execution:{state_machine}:{name}"


def function_arn(name: str, *, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def queue_url(name: str, *, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    """An SQS queue URL in the legacy `sqs.<region>.amazonaws.com` form SendMessage accepts."""
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


# -- the events that start the workflow -----------------------------------------------------------

S3_EVENT_SOURCE = "aws.s3"
OBJECT_CREATED = "Object Created"
OBJECT_DELETED = "Object Deleted"
TAGGING_DETAIL_TYPES = (OBJECT_CREATED, OBJECT_DELETED)
"""What the ASL file's RouteEvent state handles; any other S3 event would only become a dead letter
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html lists S3's detail types)."""


def tagging_rule_pattern(bucket: str, key_prefix: str = "") -> dict[str, Any]:
    """The EventBridge pattern of the rule that starts the workflow: S3 objects created or deleted
    in `bucket`, under `key_prefix` when one is given (`{"prefix": ...}` content filtering:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)."""
    detail: dict[str, Any] = {"bucket": {"name": [bucket]}}
    if key_prefix:
        if DERIVATIVES_PREFIX.startswith(key_prefix):
            raise ValueError(f"key prefix {key_prefix!r} would include the derivatives under {DERIVATIVES_PREFIX!r}")
        detail["object"] = {"key": [{"prefix": key_prefix}]}
    else:
        # The Normalize task writes its derivatives into the same bucket: their events must not
        # start the workflow again.
        # An event without a key still matches, so the workflow dead-letters it as malformed.
        detail["object"] = {"key": [{"anything-but": {"prefix": DERIVATIVES_PREFIX}}, {"exists": False}]}
    return {"source": [S3_EVENT_SOURCE], "detail-type": list(TAGGING_DETAIL_TYPES), "detail": detail}


# -- the workflow's DefinitionSubstitutions --------------------------------------------------------

DEFAULT_MAX_LABELS = 20
DEFAULT_MIN_CONFIDENCE = 55.0
MAX_LABELS_RANGE = (1, 1000)
MIN_CONFIDENCE_RANGE = (0.0, 100.0)
"""DetectLabels' own bounds for its MaxLabels and MinConfidence parameters."""


def definition_substitutions(*, max_labels: int, min_confidence: float, stream_name: str,
                             dead_letter_queue_url: str, normalize_function: str) -> dict[str, str]:
    """The values of the ASL file's `${...}` placeholders. A placeholder can only be a string, so
    MaxLabels/MinConfidence are JSON number text that the file reads with States.StringToJson."""
    confidence = float(min_confidence)
    return {
        "MaxLabels": json.dumps(int(max_labels)),
        "MinConfidence": json.dumps(int(confidence) if confidence.is_integer() else confidence),
        "StreamName": stream_name,
        "DeadLetterQueueUrl": dead_letter_queue_url,
        "NormalizeFunction": normalize_function,
        "DerivativesPrefix": DERIVATIVES_PREFIX,
    }


DETECT_LABELS_TPS = {"us-east-1": 50.0, "us-west-2": 50.0, "eu-west-1": 50.0}
DETECT_LABELS_TPS_OTHER_REGIONS = 5.0
"""Rekognition's default DetectLabels quota per account and region, in transactions per second
(adjustable: https://docs.aws.amazon.com/general/latest/gr/rekognition.html#limits_rekognition).
Every upload and every re-run is one DetectLabels call, so the upload API's rate and the default
reprocess rate follow it."""

# -- uploads ------------------------------------------------------------------------------------

IMAGE_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("image/jpeg", (".jpg", ".jpeg")),
    ("image/png", (".png",)),
    ("image/heic", (".heic",)),
    ("image/heif", (".heif",)),
    ("image/webp", (".webp",)),
    ("image/avif", (".avif",)),
    ("image/gif", (".gif",)),
)
"""The images the pipeline tags: (media type, file name extensions). The upload API, the rule and
the workflow's key check (any case of these extensions) follow this table; what a file *is* is
decided by its bytes, never by the extension alone."""

DIRECT_MEDIA_TYPES = ("image/jpeg", "image/png")
"""What Rekognition reads as it is: these go straight to DetectLabels; the others are normalised first."""

ACCEPTED_MEDIA_TYPES = tuple(media_type for media_type, _ in IMAGE_TYPES) + ("application/octet-stream",)
"""The request Content-Types the upload API takes; anything else is answered 415."""

MEDIA_TYPE_BY_SUFFIX = {suffix: media_type for media_type, suffixes in IMAGE_TYPES for suffix in suffixes}
"""The Content-Type a client sends for an image file, by its file name suffix."""

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""API Gateway's payload quota for REST APIs (10 MB, not adjustable:
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)."""

MAX_KEY_BYTES = 1024
"""S3 object keys are at most 1,024 bytes of UTF-8
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html)."""

# -- images Rekognition labels (https://docs.aws.amazon.com/rekognition/latest/dg/limits.html) ------

MAX_IMAGE_BYTES = 15 * 1024 * 1024
"""The largest image DetectLabels reads from an S3 object."""
MIN_IMAGE_SIDE = 80
MAX_IMAGE_SIDE = 10_000
"""DetectLabels' smallest and largest image width and height, in pixels."""

# -- normalisation (the Normalize task: functions/normalize, autotagger.normalize) ----------------

DERIVATIVES_PREFIX = "derivatives/"
"""Where the Normalize task writes the JPEG it made from an original (`derivatives/<sha256 of the
original key, hex>`, no extension, so no image-extension filter matches it either). The tagging rule
ignores this prefix; deleting the original deletes its derivative."""

MAX_SOURCE_BYTES = 64 * 1024 * 1024
"""The largest original the workflow normalises (cameras write 20-40 MB JPEGs); larger ones are
dead letters before any call."""

MAX_SOURCE_PIXELS = 89_478_485
"""The most pixels (width x height, from the header) an original may declare: Pillow's own
decompression-bomb threshold. A 61 MP camera photo passes; a bomb (or a 200 MP phone mode) is
refused before anything is decoded."""

NORMALIZED_MAX_SIDE = 4096
"""The derivative's longest side, in pixels (never enlarged): well inside Rekognition's 10,000 px
and 15 MB, and more detail than its label models use."""

NORMALIZED_JPEG_QUALITY = 90

# -- the index ----------------------------------------------------------------------------------

INDEX_NAME = "image_insights"
INDEX_TEMPLATE_PACKAGE = "autotagger.index"
INDEX_TEMPLATE_FILE = "template.json"
"""The index template (mapping) ships as package data, so the Lambda asset carries it too."""

OPENSEARCH_ENDPOINT_ENV = "OPENSEARCH_ENDPOINT"
INDEX_NAME_ENV = "INDEX_NAME"
"""The indexer Lambda's environment variables: the domain endpoint and the index to write."""

# -- the indexer's stream consumer (Lambda event source mapping / local stream consumer) ----------

INDEXER_BATCH_SIZE = 100
INDEXER_RETRY_ATTEMPTS = 5
"""Records per batch and retries of a failing batch before it goes to the indexer dead letters."""
