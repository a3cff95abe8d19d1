"""The same data in both runtimes, and one way to call each.

`LocalWorld`: the real local pipeline (`autotagger.local.runtime.Pipeline`, SQLite stores, the ASL
engine) behind the real FastAPI app on a real uvicorn server on loopback, in this process. In
process rather than `autotagger serve` in a subprocess because the contract test must know which
`/v1` routes the app has (to run a case's local half only when its route exists), and because the
labeler must be the scripted one both runtimes share; the HTTP path is still the real one.

`AwsWorld`: what CDK deploys, minus AWS: S3, SQS, Kinesis and Step Functions (running the ASL) in
moto, the index in osmem-server, and `functions/api/handler.handler` invoked with API Gateway REST
proxy events (`tests/aws_api/api_lambda_support.rest_event`). The URLs the Lambda presigns point at
the loopback S3 of `tests.support.lambda_http` (which checks their signatures, as S3 does).

Both are seeded the same way: an object is stored, then the workflow runs on the S3 event for it
(event time and execution name chosen by the test, so both runtimes hold the same documents, the
same executions and the same dead letters).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from tests.aws_api.api_lambda_support import (
    ACCOUNT,
    BUCKET,
    DOCUMENT,
    EVENTS,
    REGION,
    STREAM,
    Deployment,
    rest_event,
)
from tests.fakes import FakeModerationDetector, FakeTextDetector

CONTRACT_ANALYSERS = {"text_detector": FakeTextDetector(lines=()), "moderation_detector": FakeModerationDetector()}
"""What DetectText and DetectModerationLabels answer in both worlds (moto's Rekognition is patched to
the same fakes): no words and no flags from the workflow, so the words and flags the contract
searches for are the ones its seeds put on the stream (`seeds.Analysed`)."""


# -- the document's routes -------------------------------------------------------------------------

_TEMPLATES = [(re.compile("^" + re.sub(r"\\\{object\\\}", ".+", re.sub(r"\\\{(?!object)\w+\\\}", "[^/]+",
                                                                             re.escape(path))) + "$"), path)
              for path in DOCUMENT["paths"]]


def route_template(method: str, path: str) -> str | None:
    """The document's path template serving `method path` (literal paths before templated ones)."""
    matches = [template for pattern, template in _TEMPLATES
               if pattern.match(path) and method.lower() in DOCUMENT["paths"][template]]
    return min(matches, key=lambda t: t.count("{"), default=None)


@dataclass
class Answer:
    status: int
    body: Any  # parsed JSON, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


def _parse(status: int, text: bytes | str, headers: dict[str, str]) -> Answer:
    return Answer(status, json.loads(text) if text else None, {k.lower(): v for k, v in headers.items()})


# -- local -----------------------------------------------------------------------------------------

class LocalWorld:
    name = "local"

    def __init__(self, data_dir: Path, labeler: Any, *, api_key: str | None = None):
        import httpx
        import uvicorn

        from autotagger.cli.serve_cmd import _bind
        from autotagger.config import Settings
        from autotagger.local.runtime import Pipeline
        from autotagger.server import create_app

        self.pipeline = Pipeline(Settings(data_dir=data_dir, workers=2), labeler=labeler,
                                 **CONTRACT_ANALYSERS).start()
        self.app = create_app(self.pipeline, **({"api_key": api_key} if api_key else {}))
        sock = _bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", server_header=False))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        self._socket = sock
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local server did not start")
            time.sleep(0.02)
        self.http = httpx.Client(base_url=self.url, timeout=30, headers={"x-api-key": api_key} if api_key else {})

    def close(self) -> None:
        self.http.close()
        self._server.should_exit = True
        self._thread.join(30)
        self._socket.close()
        self.pipeline.close()

    # seeding ---------------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str, event_time: str, name: str) -> None:
        from autotagger.local.s3_events import object_created_event

        stored = self.pipeline.stores.bucket.put(key, data, content_type)
        event = object_created_event(stored, region=self.pipeline.settings.region,
                                     account=self.pipeline.settings.account)
        self._run({**event, "time": event_time}, name)

    def delete(self, key: str, event_time: str, name: str) -> None:
        from autotagger.local.s3_events import object_deleted_event

        deleted = self.pipeline.stores.bucket.delete(key)
        event = object_deleted_event(deleted, region=self.pipeline.settings.region,
                                     account=self.pipeline.settings.account)
        self._run({**event, "time": event_time}, name)

    def _run(self, event: dict[str, Any], name: str) -> None:
        assert self.pipeline.start_execution(event, name)
        self.settle()

    def indexed(self, key: str) -> dict[str, Any]:
        from autotagger.domain.documents import document_id

        return self.pipeline.stores.index.get(document_id(BUCKET, key))

    def put_record(self, record: dict[str, Any]) -> None:
        """A record on the stream, as the workflow puts it; the indexer consumes it."""
        self.pipeline.stores.stream.put_record(json.dumps(record).encode(), record["key"])
        self.settle()

    def settle(self) -> None:
        assert self.pipeline.wait_idle(60), "the local pipeline did not finish its work"

    def stored(self, key: str) -> tuple[bytes, str] | None:
        return self.pipeline.read_object(key)

    # the API ---------------------------------------------------------------------------------------

    def serves(self, method: str, path: str) -> bool:
        """True when the app has a route for `method path` (not a mount: the dashboard's files)."""
        from starlette.routing import Match, Mount

        scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}
        return any(not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL for route in self.app.routes)

    def call(self, method: str, path: str, query: dict[str, list[str]] | None = None, body: str | bytes | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        sent = dict(headers or {})
        if body is not None and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "application/json"
        response = self.http.request(method, path, params=query, content=body, headers=sent)
        return _parse(response.status_code, response.content, dict(response.headers))

    def fetch(self, url: str, method: str = "GET", data: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """A URL the API handed out (relative ones are on this server)."""
        response = self.http.request(method, urljoin(self.url + "/", url), content=data, headers=headers or {})
        return response.status_code, response.content


# -- AWS -------------------------------------------------------------------------------------------

class AwsWorld:
    name = "aws"

    def __init__(self, deployment: Deployment, s3_url: str):
        import httpx

        self.deployment = deployment
        self.s3_url = s3_url
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.http.close()
        self.deployment.settle()

    # seeding ---------------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str, event_time: str, name: str) -> None:
        event = self.deployment.upload(key, data, content_type)
        self._run({**event, "time": event_time}, name)

    def delete(self, key: str, event_time: str, name: str) -> None:
        self.deployment.s3.delete_object(Bucket=BUCKET, Key=key)
        event = json.loads((EVENTS / "object_deleted.json").read_text())
        event["detail"]["object"].update(key=key, sequencer=f"{time.time_ns():020X}")
        self._run({**event, "time": event_time}, name)

    def _run(self, event: dict[str, Any], name: str) -> None:
        self.deployment.run(event, name=name)
        self.settle()

    def indexed(self, key: str) -> dict[str, Any]:
        from autotagger.domain.documents import document_id

        return self.deployment.index.get(document_id(BUCKET, key))

    def put_record(self, record: dict[str, Any]) -> None:
        """A record on the Kinesis stream, as the workflow puts it; the indexer Lambda's job indexes it."""
        self.deployment.kinesis.put_record(StreamName=STREAM, Data=json.dumps(record).encode(),
                                           PartitionKey=record["key"])
        self.settle()

    def settle(self) -> None:
        """Every execution ended, and what they put on the stream indexed (the indexer Lambda's job)."""
        self.deployment.settle()
        while self.deployment.index_stream():
            pass

    def stored(self, key: str) -> tuple[bytes, str] | None:
        try:
            found = self.deployment.s3.get_object(Bucket=BUCKET, Key=key)
        except self.deployment.s3.exceptions.NoSuchKey:
            return None
        return found["Body"].read(), found["ContentType"]

    # the API ---------------------------------------------------------------------------------------

    def serves(self, method: str, path: str) -> bool:
        return True

    def call(self, method: str, path: str, query: dict[str, list[str]] | None = None, body: str | bytes | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        from functions.api import handler as api_handler

        text = body.decode("latin-1") if isinstance(body, bytes) else body
        event = rest_event(method, path, query, text)
        for name, value in (headers or {}).items():
            event["headers"][name] = value
            event["multiValueHeaders"][name] = [value]
        response = api_handler.handler(event, self.deployment.context)
        headers_out = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
        return _parse(response["statusCode"], response.get("body") or "", headers_out)

    def fetch(self, url: str, method: str = "GET", data: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """A presigned S3 URL (on the loopback S3)."""
        assert url.startswith(self.s3_url + "/"), url
        response = self.http.request(method, url, content=data, headers=headers or {})
        return response.status_code, response.content


AWS_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "AWS_DEFAULT_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "true",
                   "POWERTOOLS_METRICS_DISABLED": "true"}
__all__ = ["ACCOUNT", "AWS_ENVIRONMENT", "Answer", "AwsWorld", "BUCKET", "LocalWorld", "route_template"]
