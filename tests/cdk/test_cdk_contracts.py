"""The synthesized stack and the local runtime agree on every fact they share.

Each test reads the fact from the template CDK synthesized and compares it with what the local
runtime actually uses (a started local pipeline, the local server's upload rules, the local index
adapter), so a value changed on one side only fails here.
"""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from autotagger.config import Settings
from autotagger.contracts import (
    ASL_FILE,
    TAGGING_RULE_NAME,
    UNSUPPORTED_OBJECT_RULE_NAME,
    tagging_rule_pattern,
    unsupported_object_dead_letter,
)
from autotagger.index.opensearch import OpenSearchIndex
from autotagger.local.event_pattern import matches
from autotagger.local.s3_events import object_created_event, object_deleted_event
from autotagger.ports import StoredObject
from autotagger.server.upload_rules import UploadRejected, check_media_type
from tests.fakes import fake_analysers


@pytest.fixture
def local_pipeline(tmp_path, instant_labeler):
    """The local runtime as `autotagger serve` starts it (the instant labeler stands in for ONNX)."""
    from autotagger.local.runtime import Pipeline

    with Pipeline(Settings(data_dir=tmp_path / "data", workers=1), labeler=instant_labeler,
                  **fake_analysers()) as pipeline:
        yield pipeline


def _only(resources: dict[str, dict]) -> dict:
    assert len(resources) == 1
    return next(iter(resources.values()))["Properties"]


def _deployed_rule_pattern(synth, bucket: str, rule=None) -> dict:
    """The rule's EventPattern with the image bucket's Ref replaced by a local bucket name."""
    rule = rule or synth.stack.workflow.rule
    text = json.dumps(synth.resource(rule)["Properties"]["EventPattern"])
    return json.loads(text.replace(json.dumps(synth.ref(synth.stack.storage.bucket)), json.dumps(bucket)))


def _event(builder, key: str, bucket: str) -> dict:
    obj = StoredObject(bucket=bucket, key=key, size=1, etag="0" * 32, sequencer="0001",
                       last_modified="2026-11-25T12:00:00.000Z")
    settings = Settings()
    return builder(obj, region=settings.region, account=settings.account)


# -- the EventBridge rule -------------------------------------------------------------------------

def test_given_default_context_when_synthesized_then_the_rule_patterns_are_the_local_runtime_rules(dev, local_pipeline):
    local = {rule.name: rule.pattern for rule in local_pipeline._router.rules()}
    bucket = local_pipeline.settings.bucket
    deployed = {
        TAGGING_RULE_NAME: _deployed_rule_pattern(dev, bucket),
        UNSUPPORTED_OBJECT_RULE_NAME: _deployed_rule_pattern(dev, bucket, dev.stack.workflow.unsupported_rule),
    }
    assert deployed == local
    assert deployed[TAGGING_RULE_NAME] == tagging_rule_pattern(bucket)  # contracts' pattern, as deployed


def test_given_the_unsupported_objects_rule_when_synthesized_then_it_writes_contracts_dead_letter_to_the_queue(dev):
    """The input transformer's letter, with an event and a time put in, is contracts' dead letter."""
    target = dev.resource(dev.stack.workflow.unsupported_rule)["Properties"]["Targets"][0]
    assert target["Arn"] == dev.arn(dev.stack.dead_letters.workflow)
    event = {"detail": {"object": {"key": "x.txt"}}}
    template = target["InputTransformer"]["InputTemplate"]
    letter = json.loads(template.replace("<aws.events.event.json>", json.dumps(event)).replace(
        "<aws.events.event.ingestion-time>", "2026-11-25T12:00:00Z"))
    assert letter == unsupported_object_dead_letter(event, "2026-11-25T12:00:00Z")


@pytest.mark.parametrize("profile", ["dev", "variant"])
def test_given_the_deployed_rule_when_matched_locally_then_it_starts_the_workflow_for_the_same_events(profile, request):
    """The local matcher, given the deployed pattern, takes created and deleted objects of the image
    bucket under the context's key prefix, and nothing of another bucket or outside the prefix."""
    synth = request.getfixturevalue(profile)
    bucket = Settings().bucket
    pattern = _deployed_rule_pattern(synth, bucket)
    prefix = synth.stack.config.key_prefix
    outcomes = {
        "created": matches(pattern, _event(object_created_event, f"{prefix}dog.jpg", bucket)),
        "created, upper case": matches(pattern, _event(object_created_event, f"{prefix}DOG.JpEg", bucket)),
        "a folder": matches(pattern, _event(object_created_event, f"{prefix}a/", bucket)),
        "not an image": matches(pattern, _event(object_created_event, f"{prefix}x.txt", bucket)),
        "deleted": matches(pattern, _event(object_deleted_event, f"{prefix}dog.jpg", bucket)),
        "other bucket": matches(pattern, _event(object_created_event, f"{prefix}dog.jpg", "elsewhere")),
        "outside the prefix": matches(pattern, _event(object_created_event, "other/dog.jpg", bucket)),
    }
    assert outcomes == {"created": True, "created, upper case": True, "a folder": False, "not an image": False,
                        "deleted": True, "other bucket": False, "outside the prefix": not prefix}


# -- the workflow's DefinitionSubstitutions ------------------------------------------------------

def test_given_the_asl_placeholders_when_synthesized_then_cdk_and_the_local_runtime_fill_the_same_ones(dev):
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL_FILE.read_text(encoding="utf-8")))
    deployed = dev.resource(dev.stack.workflow.state_machine)["Properties"]["DefinitionSubstitutions"]
    assert (set(deployed), set(Settings().substitutions())) == (placeholders, placeholders)


def test_given_default_context_when_synthesized_then_detect_labels_gets_the_local_runtime_parameters(dev):
    deployed = dev.resource(dev.stack.workflow.state_machine)["Properties"]["DefinitionSubstitutions"]
    local = Settings().substitutions()
    names = ("MaxLabels", "MinConfidence")
    assert {k: deployed[k] for k in names} == {k: local[k] for k in names}


# -- uploads -------------------------------------------------------------------------------------

def _local_server_accepts(media_type: str) -> bool:
    try:
        return check_media_type(media_type) == media_type
    except UploadRejected:
        return False


def test_given_the_api_binary_media_types_when_uploading_locally_then_the_local_server_accepts_exactly_them(dev):
    deployed = set(_only(dev.resources("AWS::ApiGateway::RestApi"))["BinaryMediaTypes"])
    probes = deployed | {"image/tiff", "image/svg+xml", "text/plain", "application/json"}
    assert {t for t in probes if _local_server_accepts(t)} == deployed


def test_given_the_upload_integration_when_synthesized_then_it_maps_exactly_the_types_the_local_server_accepts(dev):
    integration = dev.resource(dev.stack.upload_api.method)["Properties"]["Integration"]
    deployed = set(integration["RequestTemplates"])
    assert {t for t in deployed if _local_server_accepts(t)} == deployed == set(
        _only(dev.resources("AWS::ApiGateway::RestApi"))["BinaryMediaTypes"])


# -- the index ------------------------------------------------------------------------------------

def test_given_the_indexer_when_synthesized_then_it_writes_the_index_the_local_opensearch_adapter_writes(dev):
    environment = dev.resource(dev.stack.indexer.function)["Properties"]["Environment"]["Variables"]
    local = OpenSearchIndex.from_url("http://127.0.0.1:9200")  # no request is sent until first use
    assert environment["INDEX_NAME"] == local.index_name


def test_given_the_role_mappings_when_synthesized_then_their_index_patterns_cover_the_local_index(dev):
    mappings = [m["Properties"] for m in dev.resources("Custom::OpenSearchRoleMapping").values()]
    local = OpenSearchIndex.from_url("http://127.0.0.1:9200")
    assert len(mappings) == 2  # the indexer's and the read API's
    for mapping in mappings:
        assert any(fnmatch.fnmatchcase(local.index_name, pattern) for pattern in mapping["IndexPatterns"])


# -- the indexer's stream consumer ------------------------------------------------------------------

def test_given_the_event_source_when_synthesized_then_its_batches_and_retries_are_the_local_consumer_ones(
        dev, local_pipeline):
    mapping = _only(dev.resources("AWS::Lambda::EventSourceMapping"))
    consumer = local_pipeline._consumer
    assert (mapping["BatchSize"], mapping["MaximumRetryAttempts"], mapping["BisectBatchOnFunctionError"]) == (
        consumer.batch_size, consumer.max_retries, consumer.bisect_on_error)
