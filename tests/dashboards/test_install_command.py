"""`autotagger dashboards install` against a loopback stand-in for OpenSearch Dashboards' import API.

The stand-in answers as OpenSearch Dashboards' `POST /api/saved_objects/_import` does: it refuses
requests without the `osd-xsrf` header, reads the multipart `file` part as NDJSON and reports
`{"success", "successCount"}`. It records each request so the tests can check what was sent.
"""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from saved_objects_support import load_saved_objects

from autotagger.cli import main
from autotagger.cli.dashboards_cmd import import_url


class ImportApi(BaseHTTPRequestHandler):
    requests: list[dict] = []
    fail_with: dict | None = None

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        url = urlsplit(self.path)
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()} if message.is_multipart() else {}
        objects = [json.loads(line) for line in parts["file"].get_content().decode().splitlines() if line.strip()] if "file" in parts else []
        self.requests.append({"path": url.path, "query": parse_qs(url.query), "headers": dict(self.headers), "objects": objects})
        if url.path != "/api/saved_objects/_import":
            return self._answer(404, {"statusCode": 404, "error": "Not Found"})
        if "osd-xsrf" not in self.headers:
            return self._answer(400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a osd-xsrf header."})
        if self.fail_with:
            return self._answer(200, self.fail_with)
        return self._answer(200, {"success": True, "successCount": len(objects)})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def dashboards_api():
    ImportApi.requests = []
    ImportApi.fail_with = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), ImportApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ImportApi
    server.shutdown()
    server.server_close()


def test_GIVEN_dashboards_WHEN_installed_twice_THEN_each_run_imports_every_object_with_overwrite_and_the_xsrf_header(dashboards_api, capsys):
    url, api = dashboards_api
    assert main(["dashboards", "install", "--endpoint", url]) == 0
    assert main(["dashboards", "install", "--endpoint", url + "/"]) == 0
    expected = [(o["type"], o["id"]) for o in load_saved_objects()]
    assert len(api.requests) == 2
    for request in api.requests:
        assert request["query"] == {"overwrite": ["true"]}
        assert request["headers"]["osd-xsrf"] == "true"
        assert [(o["type"], o["id"]) for o in request["objects"]] == expected
    assert f"imported {len(expected)} saved objects" in capsys.readouterr().out


def test_GIVEN_the_import_reports_errors_WHEN_installing_THEN_the_command_fails_and_names_the_object(dashboards_api, capsys):
    url, api = dashboards_api
    api.fail_with = {"success": False, "successCount": 6, "errors": [
        {"id": "image-insights-tag-cloud", "type": "visualization", "error": {"type": "missing_references"}}]}
    assert main(["dashboards", "install", "--endpoint", url]) == 2
    error = capsys.readouterr().err
    assert "visualization image-insights-tag-cloud" in error and "missing_references" in error


def test_GIVEN_sigv4_WHEN_installing_THEN_the_request_is_signed_for_the_es_service_in_the_region(dashboards_api, monkeypatch):
    url, api = dashboards_api
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert main(["dashboards", "install", "--endpoint", url, "--sigv4", "--region", "eu-west-1"]) == 0
    authorization = api.requests[0]["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in authorization


def test_GIVEN_an_amazon_opensearch_domain_endpoint_WHEN_resolving_the_import_url_THEN_the_dashboards_prefix_is_added():
    assert import_url("https://search-images-abc.eu-west-1.es.amazonaws.com") == \
        "https://search-images-abc.eu-west-1.es.amazonaws.com/_dashboards/api/saved_objects/_import"
    assert import_url("http://localhost:5601/") == "http://localhost:5601/api/saved_objects/_import"


def test_GIVEN_no_server_at_the_endpoint_WHEN_installing_THEN_the_command_fails_with_one_line(capsys):
    assert main(["dashboards", "install", "--endpoint", "http://127.0.0.1:9", "--timeout", "2"]) == 2
    assert "cannot reach http://127.0.0.1:9/api/saved_objects/_import" in capsys.readouterr().err
