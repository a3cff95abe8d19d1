"""The API as a client on AWS sees it, on loopback: a small HTTP server in front of the moto world.

* `/v1/...` read routes: each request becomes an API Gateway REST proxy event (the `/{proxy+}`
  resource) for `functions/api/handler.handler`; its answer becomes the HTTP response.
* `PUT|DELETE /v1/{bucket}/{object}`: what API Gateway's S3 integration, S3 and the EventBridge rule
  do: the object is written to (deleted from) moto's S3, then the state machine is started with the
  "Object Created" ("Object Deleted") event (moto's EventBridge never starts a state machine).
* S3 itself for the URLs the API hands out: the Lambda presigns against this server
  (`AWS_ENDPOINT_URL_S3`, path style since it is an IP address), so a presigned GET or PUT reaches
  moto's S3 through here. As S3 does, a presigned request whose signed headers (Content-Type,
  Content-Length) differ from what was presigned is refused with 403 SignatureDoesNotMatch: the
  signature is computed again by botocore's own SigV4 query signer from the request as received.
  A presigned PUT, like any S3 write, then starts the workflow (EventBridge).
* With `index_stream`, a thread does the indexer Lambda's work: new Kinesis records into the
  OpenSearch index (without it, the caller indexes: `Deployment.index_stream`).

Requests without the API key, and the upload route's refusals, get the deployed stack's gateway
answers (`cdk.constructs.upload_api.ANSWERS`, the one `{"error", "message"}` shape). Every other `/v1` path reaches the Lambda, as under a `/{proxy+}`
resource; the deployed API has one resource per path of the document (cdk/constructs/read_api.py),
so there a path outside the document gets API Gateway's MISSING_AUTHENTICATION_TOKEN response instead.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.aws_api.api_lambda_support import BUCKET, EVENTS, REGION, Deployment, rest_event


def _answer(name: str) -> tuple[int, dict[str, str]]:
    """A gateway answer of the deployed upload API (status, body), as the stack configures it."""
    from cdk.constructs.upload_api import ANSWERS

    status, body = ANSWERS[name]
    return int(status), body


class LambdaHttpServer:
    def __init__(self, deployment: Deployment, api_key: str, *, index_stream: bool = True):
        self.deployment = deployment
        self.api_key = api_key
        self._lock = threading.Lock()  # one handler invocation at a time, as one Lambda instance
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._threads = [threading.Thread(target=self._server.serve_forever, daemon=True)]
        if index_stream:
            self._threads.append(threading.Thread(target=self._index_forever, daemon=True))
        self._stop = threading.Event()

    def start(self) -> LambdaHttpServer:
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(30)

    def _index_forever(self) -> None:
        while not self._stop.wait(0.2):
            self.deployment.index_stream()

    # -- what each kind of request becomes ----------------------------------------------------------

    def invoke(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        from functions.api import handler as api_handler

        # As for the execute-api URL: the document's `/v1` is the stage (handler.API_BASE), which the
        # event's `path` leaves out (`requestContext.path` keeps it).
        in_stage = path.removeprefix(api_handler.API_BASE) or "/"
        event = rest_event(method, in_stage, query or None, body.decode("utf-8", "replace") if body else None)
        event["requestContext"].update(path=path, stage=api_handler.API_BASE.strip("/"))
        event["headers"] = dict(headers)
        event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
        event["requestContext"]["identity"]["apiKey"] = headers.get("x-api-key")
        with self._lock:
            answer = api_handler.handler(event, self.deployment.context)
        out = {name: values[-1] for name, values in (answer.get("multiValueHeaders") or {}).items()}
        return answer["statusCode"], out, (answer.get("body") or "").encode()

    def object_route(self, method: str, bucket: str, key: str, headers: dict[str, str],
                     body: bytes) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's S3 integration (cdk UploadApi): 403 for another bucket, then S3; then the
        EventBridge rule starts the workflow."""
        if bucket != BUCKET:
            return _json(*_answer("wrong bucket"))
        if method == "PUT":
            self.created(key, body, headers.get("content-type", ""))
            return 200, {"Content-Type": headers.get("content-type", "")}, b""
        self.deployment.s3.delete_object(Bucket=BUCKET, Key=key)
        event = json.loads((EVENTS / "object_deleted.json").read_text())
        event["detail"]["object"].update(key=key, sequencer=f"{time.time_ns():020X}")
        self._notify(event)
        return 204, {}, b""

    def created(self, key: str, body: bytes, content_type: str) -> None:
        """S3 stores the object, then EventBridge starts the workflow with its "Object Created" event."""
        self._notify(self.deployment.upload(key, body, content_type))

    def _notify(self, event: dict[str, Any]) -> None:
        event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.deployment.sfn.start_execution(stateMachineArn=self.deployment.state_machine_arn,
                                            name=str(uuid.uuid4()), input=json.dumps(event))

    def s3_presigned(self, method: str, url: str, headers: dict[str, str],
                     body: bytes) -> tuple[int, dict[str, str], bytes]:
        """S3 answering a presigned GET or PUT (path style: /bucket/key)."""
        parts = urlsplit(url)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        if not _signature_matches(method, url, headers, self.deployment):
            return 403, {"Content-Type": "application/xml"}, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
        s3 = self.deployment.s3
        if method == "PUT":
            if bucket != BUCKET:  # the Lambda presigns for the image bucket only
                return 403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"
            self.created(key, body, headers.get("content-type", ""))
            return 200, {}, b""
        try:
            found = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            return 404, {"Content-Type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>"
        return 200, {"Content-Type": found["ContentType"]}, found["Body"].read()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: pytest shows failures
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                try:
                    if "X-Amz-Signature" in query:
                        answer = server.s3_presigned(self.command, server.url + self.path, headers, body)
                    elif headers.get("x-api-key") != server.api_key:
                        answer = _json(*_answer("no API key"))
                    else:
                        answer = server.route(self.command, parts.path, query, headers, body)
                except Exception as exc:  # noqa: BLE001 - the test sees it as a 500 with the reason
                    answer = _json(500, {"message": f"loopback server: {type(exc).__name__}: {exc}"})
                status, out, content = answer
                self.send_response(status)
                for name, value in out.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_DELETE = _serve

        return Handler

    def route(self, method: str, raw_path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: bytes) -> tuple[int, dict[str, str], bytes]:
        path = unquote(raw_path)
        first, _, rest = raw_path.removeprefix("/v1/").partition("/")
        if method in ("PUT", "DELETE") and raw_path.startswith("/v1/") and rest:
            return self.object_route(method, unquote(first), unquote(rest), headers, body)
        return self.invoke(method, path, query, headers, body)


def _json(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _signature_matches(method: str, url: str, headers: dict[str, str], deployment: Deployment) -> bool:
    """Signs the request as received again, with the same time and credentials, by botocore's
    SigV4 query signer (what S3 does), and compares the signatures."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        signed = query["X-Amz-SignedHeaders"][0].split(";")
        stamp = query["X-Amz-Date"][0]
        expires = int(query["X-Amz-Expires"][0])
        given = query["X-Amz-Signature"][0]
    except (KeyError, ValueError):
        return False
    if datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp() + expires < time.time():
        return False
    frozen = deployment.s3._request_signer._credentials.get_frozen_credentials()
    request = AWSRequest(method=method, url=f"{parts.scheme}://{parts.netloc}{parts.path}",
                         headers={name: headers.get(name.lower(), "") for name in signed if name != "host"})
    auth = S3SigV4QueryAuth(Credentials(frozen.access_key, frozen.secret_key, frozen.token), "s3", REGION,
                            expires=expires)
    # add_auth() without its first step, which would stamp the request with the current time
    request.context["timestamp"] = stamp
    auth._modify_request_before_signing(request)
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request) == given
