"""The `/v1` contract as one table: each case is a data setup (`seeds.SETUPS`), one or more
requests, the status each must get and what each answer must contain (ids, keys, tags, counts,
names; never timestamps). `test_contract.py` runs every case against the local server and against
the API Lambda, and checks that both give the same normalised answers.

Paths and values may name seeded things the runtimes call differently: `{id:KEY}` is the image id
of KEY (the same on both), `{dead_letter:KEY}` the message id of the workflow dead letter about
KEY (each runtime's own; looked up through `GET /v1/dead-letters` before the case's first request).

Cases run in this order on one seeded world per runtime: reads first, then the cases that change
the data (redrive, uploads), so every read sees exactly the seeded data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autotagger.api.service import MAX_UPLOAD_BYTES
from autotagger.normalize.errors import UnsupportedImageFormat
from tests.contract.seeds import data_of
from tests.support.scripted_labeler import image_bytes

# The corrupt image's error: Rekognition refuses it, so the workflow sends it to the Normalize
# Lambda, which reads its magic bytes and names the function error after its exception class (the
# local engine and Step Functions alike; moto's Step Functions runs the handler in-process).
CORRUPT_ERROR = UnsupportedImageFormat.__name__
NEWEST_FIRST = ["raw-image/car.png", "raw-image/dog-2.jpg", "raw-image/dog-cat.jpg", "raw-image/cat-1.png",
                "raw-image/dog-1.jpg"]
EXECUTIONS_NEWEST_FIRST = ["seed-gone-deleted", "seed-corrupt", "seed-car", "seed-dog-2", "seed-dog-cat",
                           "seed-cat-1", "seed-dog-1", "seed-gone"]
UNKNOWN_ID = "0" * 40
S3_INTEGRATION = "on AWS API Gateway's S3 integration serves this route (cdk UploadApi), not the API Lambda"


class AnyText:
    """Matches any non-empty string (an opaque cursor)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    def __repr__(self) -> str:
        return "<any text>"


ANY_TEXT = AnyText()


class Including:
    """Matches a string holding `part`, in any case (a cause: Step Functions adds the service, status
    and request id to Rekognition's message; the local engine gives the message)."""

    def __init__(self, part: str):
        self.part = part

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.part.lower() in other.lower()

    def __repr__(self) -> str:
        return f"<text including {self.part!r}>"


CORRUPT_CAUSE = Including("not an image this pipeline reads")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]] | None = None
    body: Any = None  # JSON (sent as application/json), or str/bytes sent as they are
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Send:
    """Then send `data` through the upload ticket the answer holds (its method, URL and headers, but
    `content_type` when given); `stored`: the bucket then holds exactly it, else the request is
    refused (4xx) and nothing is stored."""

    data: bytes
    stored: bool
    content_type: str | None = None


@dataclass(frozen=True)
class Step:
    request: Request
    status: int
    contains: dict[str, Any] = field(default_factory=dict)  # `pick` path -> value
    error: str | None = None  # the `error` code of a non-2xx answer
    walk: str | None = None  # follow next_cursor, collecting this `pick` path over every page
    fetch: str | None = None  # the answer's image_url must serve the seeded bytes of this key
    send: Send | None = None


@dataclass(frozen=True)
class Case:
    name: str
    steps: tuple[Step, ...]
    setup: str = "gallery"
    not_on: dict[str, str] = field(default_factory=dict)  # runtime -> why the case cannot run there


def get(path: str, status: int = 200, *, query: dict[str, list[str]] | None = None, **expect: Any) -> Step:
    return Step(Request("GET", path, query), status, **expect)


def post(path: str, body: Any, status: int = 200, **expect: Any) -> Step:
    return Step(Request("POST", path, body=body), status, **expect)


def refused(method: str, path: str, status: int, error: str, *, query: dict[str, list[str]] | None = None,
            body: Any = None, headers: dict[str, str] | None = None) -> Step:
    return Step(Request(method, path, query, body, headers), status, error=error)


UPLOAD = image_bytes({"Dog": 91.0}, "image/jpeg")

CASES: tuple[Case, ...] = (
    # -- search ----------------------------------------------------------------------------------
    Case("search everything newest first, without the deleted and the corrupt image",
         (get("/v1/images", contains={"total": 5, "images[].key": NEWEST_FIRST, "next_cursor": None}),)),
    Case("search a tag case-insensitively",
         (get("/v1/images", query={"tag": ["dog"]},
              contains={"total": 3, "images[].key": ["raw-image/dog-2.jpg", "raw-image/dog-cat.jpg",
                                                     "raw-image/dog-1.jpg"]}),
          get("/v1/images", query={"tag": ["DOG"]}, contains={"total": 3}))),
    Case("search two tags: every one must match",
         (get("/v1/images", query={"tag": ["Dog", "cat"]},
              contains={"total": 1, "images[].key": ["raw-image/dog-cat.jpg"],
                        "images[].tags": [["Animal", "Dog", "Cat"]]}),
          get("/v1/images", query={"tag": ["Dog", "Car"]}, contains={"total": 0, "images": []}))),
    Case("search with min_confidence: only labels at or above it count",
         (get("/v1/images", query={"tag": ["Dog"], "min_confidence": ["80"]},
              contains={"total": 2, "images[].key": ["raw-image/dog-cat.jpg", "raw-image/dog-1.jpg"]}),)),
    Case("search since (inclusive) and until (exclusive)",
         (get("/v1/images", query={"since": ["2026-11-22T08:00:00Z"], "until": ["2026-11-24T08:00:00Z"]},
              contains={"total": 2, "images[].key": ["raw-image/dog-2.jpg", "raw-image/dog-cat.jpg"]}),
          get("/v1/images", query={"since": ["2026-11-24"]}, contains={"images[].key": ["raw-image/car.png"]}))),
    Case("search with a limit: the first page and a cursor",
         (get("/v1/images", query={"limit": ["2"]},
              contains={"total": 5, "images[].key": NEWEST_FIRST[:2], "next_cursor": ANY_TEXT}),
          get("/v1/images", query={"limit": ["0"]}, contains={"total": 5, "images": []}))),
    Case("walk a search with its cursor: every image once, in order",
         (get("/v1/images", query={"limit": ["2"]}, walk="images[].key", contains={"": NEWEST_FIRST}),
          get("/v1/images", query={"tag": ["animal"], "limit": ["1"]}, walk="images[].key",
              contains={"": ["raw-image/dog-cat.jpg", "raw-image/cat-1.png", "raw-image/dog-1.jpg"]}))),
    # -- the words in the images, and moderation (seeds.Analysed) --------------------------------
    Case("search the words in the images: any case, every word, whole words",
         (get("/v1/images", query={"text": ["harbour"]},
              contains={"total": 2, "images[].key": ["raw-image/car.png", "raw-image/dog-1.jpg"],
                        "images[].text": ["HARBOUR\nCAR PARK", "Harbour Road"]}),
          get("/v1/images", query={"text": ["HARBOUR"]}, contains={"total": 2}),
          get("/v1/images", query={"text": ["road harbour"]}, contains={"images[].key": ["raw-image/dog-1.jpg"]}),
          get("/v1/images", query={"text": ["harbourside"]}, contains={"images[].key": ["raw-image/dog-2.jpg"]}),
          get("/v1/images", query={"text": ["harb"]}, contains={"total": 0, "images": []}))),
    Case("search words and a tag: both must match",
         (get("/v1/images", query={"text": ["harbour"], "tag": ["vehicle"]},
              contains={"total": 1, "images[].key": ["raw-image/car.png"]}),
          get("/v1/images", query={"text": ["harbour"], "tag": ["cat"]}, contains={"total": 0, "images": []}))),
    Case("safe search leaves out an image with a moderation label at or above the threshold",
         (get("/v1/images", query={"safe": ["true"]},
              contains={"total": 4, "images[].key": [k for k in NEWEST_FIRST if k != "raw-image/cat-1.png"]}),
          get("/v1/images", query={"safe": ["false"]}, contains={"total": 5, "images[].key": NEWEST_FIRST}),
          get("/v1/images", query={"safe": ["true"], "tag": ["animal"]},
              contains={"total": 2, "images[].key": ["raw-image/dog-cat.jpg", "raw-image/dog-1.jpg"]}),
          get("/v1/images", query={"safe": ["true"], "text": ["harbour"], "tag": ["dog"]},
              contains={"images[].key": ["raw-image/dog-1.jpg"]}))),
    Case("walk a text search and a safe search with their cursors",
         (get("/v1/images", query={"text": ["harbour"], "limit": ["1"]}, walk="images[].key",
              contains={"": ["raw-image/car.png", "raw-image/dog-1.jpg"]}),
          get("/v1/images", query={"safe": ["true"], "limit": ["3"]}, walk="images[].key",
              contains={"": [k for k in NEWEST_FIRST if k != "raw-image/cat-1.png"]}))),
    Case("one image with its text, its words' boxes, its moderation labels and its analysis errors",
         (get("/v1/images/{id:raw-image/cat-1.png}",
              contains={"text": "", "text_words": [], "moderation.max_confidence": 81.0,
                        "moderation.labels[].name": ["Violence", "Weapons"],
                        "moderation.labels[].parent_name": ["", "Violence"], "analysis_errors": []}),
          get("/v1/images/{id:raw-image/dog-2.jpg}",
              contains={"text": "Harbourside cafe", "text_words[].text": ["Harbourside", "cafe"],
                        "text_words[].box.top": [0.1, 0.1], "moderation": None,
                        "analysis_errors[].analysis": ["moderation"],
                        "analysis_errors[].error": ["Rekognition.ThrottlingException"]}))),
    # -- one image -------------------------------------------------------------------------------
    Case("one image, and its image_url serves its bytes",
         (get("/v1/images/{id:raw-image/dog-cat.jpg}", fetch="raw-image/dog-cat.jpg",
              contains={"id": "{id:raw-image/dog-cat.jpg}", "bucket": "image-vaults", "key": "raw-image/dog-cat.jpg",
                        "tags": ["Animal", "Dog", "Cat"], "labels[].name": ["Animal", "Dog", "Cat"],
                        "labels[].confidence": [92.0, 85.0, 70.0], "label_model_version": "scripted-1",
                        "size": len(data_of("gallery", "raw-image/dog-cat.jpg"))}),)),
    Case("a deleted image is not found",
         (refused("GET", "/v1/images/{id:raw-image/gone.jpg}", 404, "not_found"),)),
    Case("an unknown image is not found", (refused("GET", f"/v1/images/{UNKNOWN_ID}", 404, "not_found"),)),
    # -- statistics ------------------------------------------------------------------------------
    Case("tag counts, most frequent first, ties by name",
         (get("/v1/stats/tags", contains={"": [{"tag": "Animal", "count": 3}, {"tag": "Dog", "count": 3},
                                               {"tag": "Cat", "count": 2}, {"tag": "Car", "count": 1},
                                               {"tag": "Grass", "count": 1}, {"tag": "Vehicle", "count": 1}]}),
          get("/v1/stats/tags", query={"top": ["2"], "min_confidence": ["90"]},
              contains={"": [{"tag": "Animal", "count": 2}, {"tag": "Car", "count": 1}]}))),
    Case("images per day, oldest first",
         (get("/v1/stats/images", query={"interval": ["day"]}, contains={"[].count": [1, 1, 1, 1, 1]}),
          get("/v1/stats/images", query={"interval": ["month"]}, contains={"[].count": [5]}))),
    # -- executions ------------------------------------------------------------------------------
    Case("executions newest first, with the failed one's error",
         (get("/v1/executions", contains={"executions[].name": EXECUTIONS_NEWEST_FIRST, "next_cursor": None}),
          get("/v1/executions", query={"status": ["FAILED"]},
              contains={"executions[].name": ["seed-corrupt"], "executions[].error": [CORRUPT_ERROR],
                        "executions[].cause": [CORRUPT_CAUSE]}))),
    Case("executions of one object key",
         (get("/v1/executions", query={"key": ["raw-image/gone.jpg"]},
              contains={"executions[].name": ["seed-gone-deleted", "seed-gone"],
                        "executions[].status": ["SUCCEEDED", "SUCCEEDED"]}),)),
    Case("walk the executions with their cursor",
         (get("/v1/executions", query={"limit": ["3"]}, walk="executions[].name",
              contains={"": EXECUTIONS_NEWEST_FIRST}),)),
    Case("one failed execution: the state that failed, its error and cause, the history",
         (get("/v1/executions/seed-corrupt",
              contains={"name": "seed-corrupt", "status": "FAILED", "failed_state": "Normalize",
                        "error": CORRUPT_ERROR, "cause": CORRUPT_CAUSE,
                        "input.detail.object.key": "raw-image/corrupt.jpg"}),)),
    Case("an unknown execution is not found", (refused("GET", "/v1/executions/never-ran", 404, "not_found"),)),
    # -- dead letters (read) ---------------------------------------------------------------------
    Case("dead letters: the corrupt image, with its reason",
         (get("/v1/dead-letters",
              contains={"workflow[].queue": ["workflow"], "workflow[].reason.error": [CORRUPT_ERROR],
                        "workflow[].reason.cause": [CORRUPT_CAUSE],
                        "workflow[].body.event.detail.object.key": ["raw-image/corrupt.jpg"], "indexer": []}),)),
    # -- errors: one shape, the statuses the document declares -----------------------------------
    Case("400 for a parameter out of its bounds or of the wrong type", (
        refused("GET", "/v1/images", 400, "invalid_parameter", query={"limit": ["501"]}),
        refused("GET", "/v1/images", 400, "invalid_parameter", query={"min_confidence": ["high"]}),
        refused("GET", "/v1/images", 400, "invalid_parameter", query={"since": ["last tuesday"]}),
        refused("GET", "/v1/images", 400, "invalid_parameter", query={"tag": [f"t{i}" for i in range(21)]}),
        refused("GET", "/v1/images", 400, "invalid_parameter", query={"safe": ["maybe"]}),
        refused("GET", "/v1/images", 400, "invalid_parameter", query={"text": ["?!"]}),
        refused("GET", "/v1/stats/tags", 400, "invalid_parameter", query={"top": ["0"]}),
        refused("GET", "/v1/stats/images", 400, "invalid_parameter", query={"interval": ["fortnight"]}),
        refused("GET", "/v1/executions", 400, "invalid_parameter", query={"status": ["DONE"]}),
        refused("GET", "/v1/dead-letters", 400, "invalid_parameter", query={"limit": ["0"]}),
    )),
    Case("400 for a cursor this API did not issue", (
        refused("GET", "/v1/images", 400, "invalid_cursor", query={"cursor": ["not-a-cursor"]}),
        refused("GET", "/v1/executions", 400, "invalid_cursor", query={"cursor": ["not-a-cursor"]}),
    )),
    Case("400 for a body that is not what the route takes", (
        refused("POST", "/v1/dead-letters/redrive", 400, "invalid_body", body="{oops"),
        refused("POST", "/v1/dead-letters/redrive", 400, "invalid_parameter", body={"message_ids": "all"}),
        refused("POST", "/v1/uploads", 400, "invalid_body", body="[]"),
        refused("POST", "/v1/uploads", 400, "invalid_parameter", body={"content_type": "image/jpeg", "size": 10}),
    )),
    Case("413 and 415 for an upload the API does not take", (
        refused("POST", "/v1/uploads", 413, "too_large",
                body={"key": "huge.jpg", "content_type": "image/jpeg", "size": MAX_UPLOAD_BYTES + 1}),
        refused("POST", "/v1/uploads", 415, "unsupported_media_type",
                body={"key": "notes.txt", "content_type": "text/plain", "size": 10}),
    )),
    Case("404 in the error shape for a route that does not exist",
         (refused("GET", "/v1/nothing-here", 404, "not_found"),)),
    Case("the object routes refuse in the error shape (403 another bucket, 415 another type)", (
        refused("PUT", "/v1/another-bucket/a.jpg", 403, "forbidden", body=UPLOAD,
                headers={"Content-Type": "image/jpeg"}),
        refused("PUT", "/v1/image-vaults/notes.txt", 415, "unsupported_media_type", body=b"hello",
                headers={"Content-Type": "text/plain"}),
    ), not_on={"aws": S3_INTEGRATION}),
    # -- changes: after every read -----------------------------------------------------------------
    Case("redrive a dead letter twice: one execution, the letter gone", (
        post("/v1/dead-letters/redrive", {"message_ids": ["{dead_letter:raw-image/corrupt.jpg}"]},
             contains={"redriven": ["{dead_letter:raw-image/corrupt.jpg}"], "not_found": [], "not_redrivable": []}),
        post("/v1/dead-letters/redrive", {"message_ids": ["{dead_letter:raw-image/corrupt.jpg}"]},
             contains={"redriven": [], "not_found": ["{dead_letter:raw-image/corrupt.jpg}"], "not_redrivable": []}),
        # the one re-run failed as before and left its own letter; the redriven one is gone
        get("/v1/executions", query={"key": ["raw-image/corrupt.jpg"]},
            contains={"executions[].status": ["FAILED", "FAILED"], "executions[].error": [CORRUPT_ERROR] * 2}),
        get("/v1/dead-letters", contains={"workflow[].body.event.detail.object.key": ["raw-image/corrupt.jpg"],
                                          "workflow[].reason.error": [CORRUPT_ERROR]}),
    )),
    Case("upload by URL: presign, then PUT exactly the declared type and size", (
        post("/v1/uploads", {"key": "uploads/by-url.jpg", "content_type": "image/jpeg", "size": len(UPLOAD)},
             contains={"method": "PUT", "key": "uploads/by-url.jpg",
                       "headers": {"Content-Type": "image/jpeg", "Content-Length": str(len(UPLOAD))}},
             send=Send(UPLOAD, stored=True)),
    )),
    Case("upload by URL: a body of another size or type is refused", (
        post("/v1/uploads", {"key": "uploads/mismatch.jpg", "content_type": "image/jpeg", "size": len(UPLOAD)},
             send=Send(UPLOAD + b"more bytes", stored=False)),
        post("/v1/uploads", {"key": "uploads/mismatch.jpg", "content_type": "image/png", "size": len(UPLOAD)},
             send=Send(UPLOAD, stored=False, content_type="image/jpeg")),
    )),
)
