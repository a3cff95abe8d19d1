"""The Postman collection, run by newman against the real local server (`autotagger serve`) and against
the API Lambda behind API Gateway on loopback (moto and osmem-server behind it)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from newman_support import API_KEY


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory):
    """The real pipeline behind `autotagger serve`, requiring an x-api-key (as API Gateway does)."""
    port = _free_port()
    autotagger = shutil.which("autotagger", path=str(Path(sys.executable).parent)) or "autotagger"
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [autotagger, "serve", "--host", "127.0.0.1", "--port", str(port), "--api-key", API_KEY,
             "--data-dir", str(tmp_path_factory.mktemp("autotagger-data"))],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", headers={"x-api-key": API_KEY}, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"autotagger serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def lambda_server(osmem_server):
    """The API Lambda on loopback as API Gateway serves it (tests/support/lambda_http.py), with S3,
    SQS, Kinesis and Step Functions (running the ASL) in moto and the index in osmem-server. moto's
    canned Rekognition is replaced by the fast labeler (a JPEG is a Dog; bytes that are no image
    are InvalidImageFormatException, as Rekognition says), so a corrupt upload is dead-lettered."""
    from autotagger.api import aws as api_aws
    from autotagger.local.lambda_context import LambdaContext
    from tests.aws_api.api_lambda_support import Deployment, moto_services
    from tests.fakes import FakeLabeler
    from tests.support.lambda_http import LambdaHttpServer
    from tests.support.scripted_labeler import patch_moto_rekognition
    from tests.support.worlds import ACCOUNT, AWS_ENVIRONMENT, CONTRACT_ANALYSERS, REGION

    patch = pytest.MonkeyPatch()
    for name, value in AWS_ENVIRONMENT.items():
        patch.setenv(name, value)
    clone = osmem_server.clone()
    try:
        with moto_services(), \
                patch_moto_rekognition(ACCOUNT, FakeLabeler(model_version="fast-1"), **CONTRACT_ANALYSERS):
            deployment = Deployment(clone.url, patch, LambdaContext("autotagger-api", region=REGION, account=ACCOUNT))
            server = LambdaHttpServer(deployment, API_KEY).start()
            # The Lambda presigns its URLs against the loopback S3 (path style: an IP address).
            patch.setenv("AWS_ENDPOINT_URL_S3", server.url)
            api_aws.reset_service()
            yield server.url
            server.close()
            deployment.settle()
    finally:
        api_aws.reset_service()
        patch.undo()
        clone.close()
