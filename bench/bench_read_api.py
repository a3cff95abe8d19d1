"""The read API Lambda's handler time per request (`functions/api/handler.py`), for search and stats.

The handler is invoked in process with API Gateway REST proxy events shaped as the execute-api URL
sends them (path under the `v1` stage), so a request pays what it pays on AWS inside the function:
Powertools routing and validation, the `ReadApi` service, the index adapter, JSON out. Cold start,
API Gateway and the network are not in it. Two indexes behind the same handler:

- SQLite (`AUTOTAGGER_INDEX` pointing at the file), as a local Lambda emulation would run it, with
  100,000 documents (20,000 with --quick);
- the OpenSearch adapter (`OPENSEARCH_ENDPOINT`) on osmem-server in memory on loopback, at
  OPENSEARCH_DOCUMENTS documents: loading osmem-server through the adapter runs at about 50-100
  documents/s on this machine, so 100,000 would take over 15 minutes. osmem-server is not
  OpenSearch: only the adapter's and the handler's cost per request mean something there.

Beside each handler time, the same query straight on the index adapter: the difference is what the
handler (routing, validation, the service, serialisation) adds per request.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bench.common import log, median, percentile
from bench.synthetic_docs import popular_tags, synthetic_actions

LOAD_BATCH = 1000
OPENSEARCH_DOCUMENTS = 5_000
STAGE = "v1"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def _event(path_and_query: str) -> dict[str, Any]:
    """A REST API proxy event for GET `path_and_query` (under the stage) on the execute-api URL."""
    path, _, query = path_and_query.partition("?")
    multi = parse_qs(query) or None
    return {
        "resource": path, "path": path, "httpMethod": "GET",
        "headers": {"Accept": "application/json"}, "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} if multi else None,
        "multiValueQueryStringParameters": multi, "pathParameters": None, "stageVariables": None,
        "requestContext": {"stage": STAGE, "path": f"/{STAGE}{path}", "httpMethod": "GET", "accountId": ACCOUNT,
                           "requestId": str(uuid.uuid4()), "resourcePath": path, "apiId": "bench",
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": None, "isBase64Encoded": False,
    }


def requests(tags: dict[str, str]) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    """name -> (request under the stage, the same query on the index adapter)."""
    return {
        "search_one_tag": (f"/images?tag={tags['common']}&limit=50",
                           lambda index: index.search(tags=[tags["common"]], limit=50)),
        "search_two_tags_lower_case": (f"/images?tag={tags['common'].lower()}&tag={tags['second'].lower()}&limit=50",
                                       lambda index: index.search(tags=[tags["common"], tags["second"]], limit=50)),
        "search_page_of_500": ("/images?limit=500", lambda index: index.search(limit=500)),
        "stats_top_20_tags": ("/stats/tags?top=20", lambda index: index.tag_counts(top=20)),
        "stats_images_per_day": ("/stats/images?interval=day", lambda index: index.image_counts(interval="day")),
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _lambda_environment(index: dict[str, str]) -> dict[str, str]:
    """What CDK gives the function (cdk/constructs/read_api.py), with the index under test. The boto3
    clients are built but not called by search and stats; the credentials are placeholders."""
    from autotagger.api.aws import IMAGE_BUCKET_ENV, STATE_MACHINE_ARN_ENV

    return {STATE_MACHINE_ARN_ENV: f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:bench",
            IMAGE_BUCKET_ENV: "bench-images", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true", **index}


def _measure(index_env: dict[str, str], index: Any, tags: dict[str, str], repeats: int) -> dict[str, Any]:
    from autotagger.api.aws import reset_service
    from autotagger.local.lambda_context import LambdaContext

    with _environment(_lambda_environment(index_env)):
        from functions.api import handler as api_handler

        reset_service()
        context = LambdaContext("autotagger-api", region=REGION, account=ACCOUNT)
        measured: dict[str, Any] = {}
        for name, (path, direct) in requests(tags).items():
            event = _event(path)
            first = api_handler.handler(event, context)  # warm: the service is built on the first request
            if first["statusCode"] != 200:
                raise RuntimeError(f"{path} answered {first['statusCode']}: {first['body'][:300]}")
            handler_ms, direct_ms = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                api_handler.handler(event, context)
                handler_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                direct(index)
                direct_ms.append((time.perf_counter() - t0) * 1000)
            body = json.loads(first["body"])
            measured[name] = {
                "request": f"GET /{STAGE}{path}",
                "handler_median_ms": round(median(handler_ms), 3),
                "handler_p95_ms": round(percentile(handler_ms, 95), 3),
                "index_median_ms": round(median(direct_ms), 3),
                "handler_overhead_ms": round(median(handler_ms) - median(direct_ms), 3),
                "response_bytes": len(first["body"]),
                "answer": f"{body['total']} matches, {len(body['images'])} returned" if isinstance(body, dict)
                          else f"{len(body)} rows",
            }
        reset_service()
    return measured


def _tags(actions: list[dict[str, Any]]) -> dict[str, str]:
    ranked = popular_tags(actions, top=2)
    return {"common": ranked[0], "second": ranked[1]}


def _load(index: Any, actions: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for i in range(0, len(actions), LOAD_BATCH):
        index.apply(actions[i:i + LOAD_BATCH])
    return time.perf_counter() - start


def sqlite(documents: int, repeats: int) -> dict[str, Any]:
    from autotagger.index import open_index

    actions = synthetic_actions(documents, seed=110)
    tags = _tags(actions)
    with tempfile.TemporaryDirectory(prefix="bench-read-api-") as tmp:
        path = Path(tmp) / "index.db"
        index = open_index(path)
        log(f"read api: loading {documents} documents into SQLite")
        load_seconds = _load(index, actions)
        log("read api: timing the handler on SQLite")
        measured = _measure({"AUTOTAGGER_INDEX": str(path)}, index, tags, repeats)
        index.close()
    return {"index": "SQLite (AUTOTAGGER_INDEX)", "documents": documents, "repeats": repeats,
            "load_seconds": round(load_seconds, 1), "requests": measured}


def opensearch(documents: int, repeats: int) -> dict[str, Any]:
    from autotagger import contracts
    from autotagger.index.opensearch import OpenSearchIndex
    from bench.osmem import opensearch_server

    actions = synthetic_actions(documents, seed=111)
    tags = _tags(actions)
    index_name = "image_insights_bench_read_api"
    with opensearch_server() as url:
        # A refresh of osmem-server on a loaded machine can outlast the adapter's default 30 s.
        index = OpenSearchIndex.from_url(url, index_name=index_name, timeout=300.0)
        log(f"read api: loading {documents} documents into the OpenSearch adapter (osmem-server)")
        load_seconds = _load(index, actions)
        index.refresh_now()
        log("read api: timing the handler on the OpenSearch adapter")
        measured = _measure({contracts.OPENSEARCH_ENDPOINT_ENV: url, contracts.INDEX_NAME_ENV: index_name},
                            index, tags, repeats)
        index.close()
    return {"index": "OpenSearch adapter on osmem-server (in memory, loopback)", "documents": documents,
            "repeats": repeats, "load_seconds": round(load_seconds, 1), "requests": measured}


def run(quick: bool = False, documents: int | None = None, opensearch_documents: int | None = None,
        repeats: int | None = None) -> dict[str, Any]:
    repeats = repeats or (7 if quick else 15)
    results = {"sqlite": sqlite(documents or (20_000 if quick else 100_000), repeats)}
    log(f"read api: {json.dumps(results['sqlite'])}")
    results["opensearch"] = opensearch(opensearch_documents or (1_000 if quick else OPENSEARCH_DOCUMENTS), repeats)
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--documents", type=int, default=None)
    parser.add_argument("--opensearch-documents", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    options = parser.parse_args()
    print(json.dumps(run(options.quick, options.documents, options.opensearch_documents, options.repeats), indent=2))
