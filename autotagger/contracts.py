"""Every fact the AWS stack (`cdk/`) and the local runtime must agree on, stated once.

Plain data and small functions over the standard library only: CDK imports this module at
synth time, the local runtime at run time, and the indexer Lambda asset bundles it (through the
OpenSearch adapter). `tests/cdk/test_cdk_contracts.py` reads the synthesized template back and
checks that it says what this module says.
"""

from __future__ import annotations

import itertools
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
UNSUPPORTED_OBJECT_RULE_NAME = "unsupported-objects"
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


def image_key_filter(key_prefix: str = "") -> list[dict[str, Any]]:
    """EventBridge matchers for "an image key (by extension, in any case) under `key_prefix`".

    Without a prefix: `{"suffix": {"equals-ignore-case": ".jpg"}}` per extension (case-insensitive
    suffix matching). A field's matchers are OR-ed and a field cannot be named twice, so a prefix and
    a case-insensitive suffix cannot both apply to the key; with a prefix, each extension's case
    variants become `{"wildcard": "<prefix>*<variant>"}` (generated here from the media-type table,
    never written by hand). A key ending in `/` (an S3 console "folder") ends in no image extension,
    so it matches neither form. Operators:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
    ("Ends with (ignore case)", "Wildcard")."""
    if not key_prefix:
        return [{"suffix": {"equals-ignore-case": extension}} for extension in IMAGE_EXTENSIONS]
    prefix = _wildcard_escape(key_prefix)
    return [{"wildcard": f"{prefix}*{variant}"}
            for extension in IMAGE_EXTENSIONS for variant in case_variants(extension)]


def tagging_rule_pattern(bucket: str, key_prefix: str = "") -> dict[str, Any]:
    """The EventBridge pattern of the rule that starts the workflow: S3 objects created or deleted
    in `bucket` whose key is an image by extension (in any case), under `key_prefix` when one is
    given. Folder keys (`a/`) and other files never start an execution; for an accepted upload of
    another file `unsupported_object_rule_pattern` leaves a dead letter instead. An event with no key
    at all (never S3's; one put on the bus by hand) still starts the workflow, whose input check
    dead-letters it as `Autotagger.MalformedEvent`: matchers in one list are alternatives. The
    Normalize task's derivatives (`DERIVATIVES_PREFIX`, no extension) match no image extension, so
    they never start the workflow again."""
    key = [*image_key_filter(key_prefix), {"exists": False}]
    detail = {"bucket": {"name": [bucket]}, "object": {"key": key}}
    return {"source": [S3_EVENT_SOURCE], "detail-type": list(TAGGING_DETAIL_TYPES), "detail": detail}


def unsupported_object_rule_pattern(bucket: str) -> dict[str, Any]:
    """Objects created in `bucket` that are neither images by extension nor folder keys: their rule
    sends `unsupported_object_dead_letter` to the workflow's dead-letter queue without starting an
    execution, so every accepted upload still ends indexed or as a dead letter with the reason.
    `anything-but` takes wildcards ("Anything-but using a wildcard") but not a case-insensitive
    suffix, hence the generated case variants. It cannot also require a key prefix (one field, one
    list of matchers): with `keyPrefix`, non-image keys outside the prefix are reported too. The
    Normalize task's derivatives (`DERIVATIVES_PREFIX`, no extension) are not uploads: excluded."""
    excluded = [f"*{variant}" for extension in IMAGE_EXTENSIONS for variant in case_variants(extension)]
    key = [{"anything-but": {"wildcard": [*excluded, "*/", f"{_wildcard_escape(DERIVATIVES_PREFIX)}*"]}}]
    return {"source": [S3_EVENT_SOURCE], "detail-type": [OBJECT_CREATED],
            "detail": {"bucket": {"name": [bucket]}, "object": {"key": key}}}


UNSUPPORTED_OBJECT_ERROR = "Autotagger.UnsupportedObjectType"


def unsupported_object_cause() -> str:
    names = list(IMAGE_EXTENSIONS)
    listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    formats = [media_type.split("/")[1].upper() for media_type, _ in IMAGE_MEDIA_TYPES]
    kinds = ", ".join(formats[:-1]) + f" and {formats[-1]}" if len(formats) > 1 else formats[0]
    return f"The object's key does not end in {listed}: only {kinds} images can be tagged."


def unsupported_object_dead_letter(event: dict[str, Any], failed_at: str) -> dict[str, Any]:
    """The dead letter of an unsupported object: the workflow's dead-letter shape, without an
    execution (none was started). On AWS the rule's input transformer writes the same fields."""
    return {"event": event, "error": UNSUPPORTED_OBJECT_ERROR, "cause": unsupported_object_cause(),
            "execution_id": None, "failed_at": failed_at}


def case_variants(text: str) -> list[str]:
    """Every upper/lower-case spelling of `text` (EventBridge wildcards are case-sensitive)."""
    options = [sorted({ch.lower(), ch.upper()}) for ch in text]
    return sorted({"".join(chars) for chars in itertools.product(*options)})


def _wildcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")


# -- the workflow's DefinitionSubstitutions --------------------------------------------------------

DEFAULT_MAX_LABELS = 20
DEFAULT_MIN_CONFIDENCE = 55.0
MAX_LABELS_RANGE = (1, 1000)
MIN_CONFIDENCE_RANGE = (0.0, 100.0)
"""DetectLabels' own bounds for its MaxLabels and MinConfidence parameters."""


def definition_substitutions(*, max_labels: int, min_confidence: float, stream_name: str,
                             dead_letter_queue_url: str, normalize_function: str, detect_text: bool = True,
                             detect_moderation: bool = True) -> dict[str, str]:
    """The values of the ASL file's `${...}` placeholders. A placeholder can only be a string, so
    MaxLabels/MinConfidence are JSON number text and DetectTextEnabled/DetectModerationEnabled JSON
    `true`/`false`, which the file reads with States.StringToJson."""
    confidence = float(min_confidence)
    return {
        "MaxLabels": json.dumps(int(max_labels)),
        "MinConfidence": json.dumps(int(confidence) if confidence.is_integer() else confidence),
        "StreamName": stream_name,
        "DeadLetterQueueUrl": dead_letter_queue_url,
        "NormalizeFunction": normalize_function,
        "DerivativesPrefix": DERIVATIVES_PREFIX,
        ANALYSIS_SUBSTITUTIONS["text"]: json.dumps(bool(detect_text)),
        ANALYSIS_SUBSTITUTIONS["moderation"]: json.dumps(bool(detect_moderation)),
    }


# -- the analyses of one image (the workflow's Parallel state) ----------------------------------

ANALYSES = ("labels", "text", "moderation")
"""What the workflow asks Rekognition about each image, side by side: DetectLabels,
DetectText and DetectModerationLabels. Labels are required (their failure dead-letters the image)."""
OPTIONAL_ANALYSES = ("text", "moderation")
"""The analyses that can be switched off, and whose failure is recorded in the record's
`analysis_errors` (`{"analysis", "error", "cause"}`) instead of failing the image."""

ANALYSIS_SUBSTITUTIONS = {"text": "DetectTextEnabled", "moderation": "DetectModerationEnabled"}
"""The DefinitionSubstitution that switches each optional analysis on or off."""
ANALYSIS_ENV = {"text": "AUTOTAGGER_DETECT_TEXT", "moderation": "AUTOTAGGER_DETECT_MODERATION"}
"""The local runtime's environment variable for each (on unless set to a false value)."""
ANALYSIS_CONTEXT_KEYS = {"text": "detectText", "moderation": "detectModeration"}
"""CDK's `autotagger:<key>` context key for each (cdk/config.py)."""



DETECT_LABELS_TPS = {"us-east-1": 50.0, "us-west-2": 50.0, "eu-west-1": 50.0}
DETECT_LABELS_TPS_OTHER_REGIONS = 5.0
"""Rekognition's default DetectLabels quota per account and region, in transactions per second
(adjustable: https://docs.aws.amazon.com/general/latest/gr/rekognition.html#limits_rekognition).
Every upload and every re-run is one DetectLabels call, so the upload API's rate and the default
reprocess rate follow it."""

# -- the backfill (statemachine/backfill.asl.json) ----------------------------------------------

BACKFILL_ASL_FILE = ASL_FILE.with_name("backfill.asl.json")
"""Re-tags every object under a prefix: a Distributed Map whose items run the tagging workflow as
child executions. Deployed by cdk/constructs/backfill.py, run locally by `autotagger reprocess`."""

BACKFILL_STATE_MACHINE_NAME = "image-backfill"
BACKFILL_RESULTS_BUCKET = "image-backfill-results"
BACKFILL_RESULTS_PREFIX = "backfill-results"
"""Where the Map Run's ResultWriter puts manifest.json and the result files: a bucket of their own,
so they never start the tagging rule nor show up in a listing of the images."""

RETAG_SEQUENCER = "0"
"""The sequencer of a re-tag: an event the backfill or `reprocess` makes up for an object listed in
the bucket, not one S3 sent. ListObjectsV2 gives no sequencer (S3 sends it in event notifications
only, https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html), so
a re-tag cannot be ordered among the object's events; the indexer recognises a record whose
sequencer is this (all zeros, which no S3 event carries) and decides it by the stored document's
ETag instead (autotagger.domain.documents.decide)."""

BACKFILL_ITEMS_PER_BATCH = 10
BACKFILL_TOLERATED_FAILURE_PERCENTAGE = 5.0
"""Objects per child execution (fewer, longer child executions: fewer state transitions), and the
share of objects that may fail (each becomes a dead letter with its reason) before the Map Run stops."""


def backfill_max_concurrency(detect_labels_tps: float) -> int:
    """Batches the Map Run runs at once, from the DetectLabels quota (calls per second). A batch
    tags its objects side by side and one tagging execution takes well over a second end to end
    (start, DetectLabels, PutRecord, the .sync completion event), so TPS / items-per-batch batches
    stay within the quota; throttling beyond it is retried by the tagging workflow itself."""
    return max(1, int(detect_labels_tps // BACKFILL_ITEMS_PER_BATCH))


def backfill_substitutions(*, bucket: str, tagging_state_machine_arn: str, results_bucket: str, region: str,
                           account: str, max_concurrency: int | str, items_per_batch: int = BACKFILL_ITEMS_PER_BATCH,
                           tolerated_failure_percentage: float = BACKFILL_TOLERATED_FAILURE_PERCENTAGE
                           ) -> dict[str, str]:
    """The values of backfill.asl.json's `${...}` placeholders (numbers as JSON text, read with
    States.StringToJson, as in the tagging workflow; `max_concurrency` may already be that text,
    a CloudFormation token on AWS: cdk/quota.py)."""
    percentage = float(tolerated_failure_percentage)
    return {
        "BucketName": bucket,
        "TaggingStateMachineArn": tagging_state_machine_arn,
        "ResultsBucketName": results_bucket,
        "ResultsPrefix": BACKFILL_RESULTS_PREFIX,
        "AccountId": account,
        "Region": region,
        # A number, or (CDK) a token string that resolves to one at deploy time.
        "MaxConcurrency": max_concurrency if isinstance(max_concurrency, str) else json.dumps(int(max_concurrency)),
        "ItemsPerBatch": json.dumps(int(items_per_batch)),
        "RetagSequencer": RETAG_SEQUENCER,
        "ToleratedFailurePercentage": json.dumps(int(percentage) if percentage.is_integer() else percentage),
    }


# -- uploads ------------------------------------------------------------------------------------

IMAGE_MEDIA_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("image/jpeg", (".jpg", ".jpeg")),
    ("image/png", (".png",)),
    ("image/heic", (".heic",)),
    ("image/heif", (".heif",)),
    ("image/webp", (".webp",)),
    ("image/avif", (".avif",)),
    ("image/gif", (".gif",)),
)
"""The images the pipeline tags: (media type, file name extensions in lower case), one row per
format. Everything below is derived from it: the upload API's media types, the rule patterns, the
suffix -> Content-Type map of the CLI, the workflow's direct-or-normalise Choice. What a file *is*
is decided by its bytes, never by the extension alone."""

DIRECT_MEDIA_TYPES = ("image/jpeg", "image/png")
"""What Rekognition reads as it is: these go straight to DetectLabels; the others are normalised first."""

MEDIA_TYPE_BY_SUFFIX = {extension: media_type for media_type, extensions in IMAGE_MEDIA_TYPES
                        for extension in extensions}
"""The Content-Type a client sends for an image file, by its file name suffix."""
IMAGE_EXTENSIONS = tuple(MEDIA_TYPE_BY_SUFFIX)

ACCEPTED_MEDIA_TYPES = (*(media_type for media_type, _ in IMAGE_MEDIA_TYPES), "application/octet-stream")
"""The request Content-Types the upload API takes; anything else is answered 415."""

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
DETECT_TEXT_MAX_WORDS = 100
"""DetectText returns at most 100 words per image
(https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectText.html)."""
DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE = 50.0
"""DetectModerationLabels' MinConfidence when the request gives none: labels below 50 are left out
(https://docs.aws.amazon.com/rekognition/latest/APIReference/API_ModerationLabel.html)."""
MODERATION_THRESHOLD = DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE
"""A moderation label at or above this confidence flags the image (`safe=true` leaves it out). It is
DetectModerationLabels' default MinConfidence, which the workflow uses, so every label the record
holds counts (https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectModerationLabels.html)."""

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
