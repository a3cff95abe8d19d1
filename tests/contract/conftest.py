"""One seeded world per runtime, for the whole module (seeding the AWS one runs nine executions in
moto: about 20 s). The cases run in table order on it: reads first, changes last."""

from __future__ import annotations

import pytest

from autotagger.api import aws as api_aws
from autotagger.local.lambda_context import LambdaContext
from tests.aws_api.api_lambda_support import Deployment, moto_services
from tests.contract.seeds import seed
from tests.support.lambda_http import LambdaHttpServer
from tests.support.scripted_labeler import ScriptedLabeler, patch_moto_rekognition
from tests.support.worlds import ACCOUNT, AWS_ENVIRONMENT, CONTRACT_ANALYSERS, REGION, AwsWorld, LocalWorld


@pytest.fixture(scope="module")
def aws_world(osmem_server):
    patch = pytest.MonkeyPatch()
    for name, value in AWS_ENVIRONMENT.items():
        patch.setenv(name, value)
    api_aws.reset_service()
    clone = osmem_server.clone()
    try:
        with moto_services(), patch_moto_rekognition(ACCOUNT, **CONTRACT_ANALYSERS):
            deployment = Deployment(clone.url, patch, LambdaContext("autotagger-api", region=REGION, account=ACCOUNT))
            s3 = LambdaHttpServer(deployment, "contract-key", index_stream=False).start()
            # The Lambda presigns against the loopback S3 (path style: an IP address).
            patch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
            api_aws.reset_service()
            world = AwsWorld(deployment, s3.url)
            world.answers = {}
            seed(world, "gallery")
            yield world
            world.close()
            s3.close()
    finally:
        api_aws.reset_service()
        patch.undo()
        clone.close()


@pytest.fixture(scope="module")
def local_world(tmp_path_factory):
    world = LocalWorld(tmp_path_factory.mktemp("contract") / "data", ScriptedLabeler())
    world.answers = {}
    try:
        seed(world, "gallery")
        yield world
    finally:
        world.close()
