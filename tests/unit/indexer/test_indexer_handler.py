"""The indexer handler (`autotagger.stream_indexer.make_handler`, and `functions/indexer/handler.py`,
which binds it to the environment's index) with Kinesis events from tests/events/ (partial batch
responses)."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import pytest

from autotagger.domain.documents import document_id
from autotagger.index.sqlite import SQLiteIndex
from autotagger.stream_indexer import decode_record, make_handler
from tests.fakes import FakeImageIndex

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "events"


def load_lambda_module():
    """Loads handler.py by path, as Lambda does (it is the asset's top-level module); each load is a
    fresh Lambda process as far as the handler's index goes."""
    spec = importlib.util.spec_from_file_location("indexer_handler_under_test", ROOT / "functions/indexer/handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(name):
    return json.loads((EVENTS / name).read_text())


def sequence_numbers(batch):
    return [record["kinesis"]["sequenceNumber"] for record in batch["Records"]]


@pytest.fixture
def handler():
    """The deployed handler: its index comes from the environment."""
    return load_lambda_module().handler


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def test_given_a_valid_batch_when_handled_then_no_failures_and_one_apply_call(lambda_context):
    index = FakeImageIndex()
    handler = make_handler(lambda: index)
    assert handler(event("kinesis_batch.json"), lambda_context) == {"batchItemFailures": []}
    assert len(index.apply_calls) == 1 and len(index.apply_calls[0]) == 3


def test_given_a_valid_batch_when_handled_then_documents_follow_the_contract(lambda_context):
    index = FakeImageIndex()
    handler = make_handler(lambda: index)
    handler(event("kinesis_batch.json"), lambda_context)
    dog = index.documents[document_id("image-vaults", "raw-image/dog.jpg")]
    assert dog["tags"] == ["Dog", "Mammal", "Animal"] and dog["size"] == 5 and dog["sequencer"] == "617f08299329d189"
    assert index.documents[document_id("image-vaults", "raw-image/old.jpg")]["deleted"] is True


def test_given_one_malformed_record_when_handled_then_only_it_is_reported(lambda_context):
    index = FakeImageIndex()
    handler = make_handler(lambda: index)
    batch = event("kinesis_malformed.json")
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[1]}]}
    assert len(index.documents) == 2


def test_given_a_bulk_item_error_when_handled_then_only_that_record_is_reported(lambda_context):
    index = FakeImageIndex(failing={document_id("image-vaults", "raw-image/cat.png")})
    handler = make_handler(lambda: index)
    batch = event("kinesis_batch.json")
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[1]}]}


def test_given_an_older_event_after_a_newer_one_when_handled_then_it_is_stale_not_a_failure(lambda_context):
    index = FakeImageIndex()
    handler = make_handler(lambda: index)
    assert handler(event("kinesis_out_of_order.json"), lambda_context) == {"batchItemFailures": []}
    assert index.documents[document_id("image-vaults", "raw-image/dog.jpg")]["tags"][0] == "Dog"


def test_given_every_record_fails_when_handled_then_all_are_reported_instead_of_raising(lambda_context):
    batch = event("kinesis_batch.json")
    index = FakeImageIndex(failing={document_id("image-vaults", key) for key in
                                 ("raw-image/dog.jpg", "raw-image/cat.png", "raw-image/old.jpg")})
    handler = make_handler(lambda: index)
    response = handler(batch, lambda_context)
    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == sequence_numbers(batch)


def test_given_data_that_is_not_base64_when_handled_then_the_record_is_reported(lambda_context):
    batch = event("kinesis_batch.json")
    batch["Records"][0]["kinesis"]["data"] = "%%% not base64 %%%"
    handler = make_handler(FakeImageIndex)
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[0]}]}


def test_given_the_sqlite_index_when_a_batch_is_handled_then_the_images_are_searchable(tmp_path, lambda_context):
    index = SQLiteIndex(tmp_path / "index.db")
    handler = make_handler(lambda: index)
    handler(event("kinesis_batch.json"), lambda_context)
    assert [image["key"] for image in index.search(tags=["Mammal"])["images"]] == ["raw-image/cat.png",
                                                                                    "raw-image/dog.jpg"]


def test_given_no_configured_index_when_the_environment_names_a_sqlite_file_then_it_is_used(
        handler, tmp_path, monkeypatch, lambda_context):
    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    monkeypatch.setenv("AUTOTAGGER_INDEX", str(tmp_path / "env.db"))
    handler(event("kinesis_batch.json"), lambda_context)
    assert SQLiteIndex(tmp_path / "env.db").search()["total"] == 2


def test_given_a_display_threshold_in_the_environment_when_handled_then_tags_follow_it(monkeypatch, lambda_context):
    monkeypatch.setenv("DISPLAY_THRESHOLD", "50")
    index = FakeImageIndex()
    handler = make_handler(lambda: index)
    handler(event("kinesis_batch.json"), lambda_context)
    assert "Grass" in index.documents[document_id("image-vaults", "raw-image/dog.jpg")]["tags"]


def test_given_metrics_enabled_when_handled_then_counts_are_emitted_in_the_namespace(monkeypatch, capsys, lambda_context):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler = make_handler(FakeImageIndex)
    handler(event("kinesis_malformed.json"), lambda_context)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics = emitted[-1]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "autotagger"
    assert (metrics["RecordsIndexed"], metrics["RecordsMalformed"]) == ([2.0], [1.0])


def test_given_the_handler_module_when_imported_then_no_local_only_dependency_is_loaded():
    import subprocess
    import sys

    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('h', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "print(sorted(n for n in ('numpy', 'onnxruntime', 'fastapi', 'PIL', 'boto3') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "functions/indexer/handler.py")],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_given_a_kinesis_record_when_decoded_then_the_stream_record_comes_back():
    data = {"action": "delete", "bucket": "b", "key": "k.jpg", "sequencer": "01", "event_time": "2026-01-01T00:00:00Z"}
    record = {"kinesis": {"sequenceNumber": "1", "data": base64.b64encode(json.dumps(data).encode()).decode()}}
    assert decode_record(record)["key"] == "k.jpg"


_RECORD = {"action": "delete", "bucket": "b", "key": "k.jpg", "sequencer": "01", "event_time": "2026-01-01T00:00:00Z"}


def _kinesis_record(stored: bytes) -> dict:
    """Lambda's Kinesis event record for the bytes Kinesis stored (always base64 in the event)."""
    return {"kinesis": {"sequenceNumber": "7", "data": base64.b64encode(stored).decode()}}


@pytest.mark.parametrize("stored", [
    json.dumps(_RECORD).encode(),                                 # Step Functions put the JSON text's bytes
    base64.b64encode(json.dumps(_RECORD).encode()),               # ... or base64 of the JSON text
    b"  " + base64.b64encode(json.dumps(_RECORD).encode()) + b"\n",
    json.dumps(_RECORD, ensure_ascii=False).encode() + b"\n",
], ids=["json-text", "base64-of-json", "base64-with-whitespace", "json-with-newline"])
def test_given_either_encoding_of_the_data_string_when_decoded_then_the_same_stream_record(stored):
    assert decode_record(_kinesis_record(stored)) == decode_record(
        _kinesis_record(json.dumps(_RECORD).encode()))


@pytest.mark.parametrize("stored, reason", [
    (b"\x00\xff\xfe garbage", "neither JSON text nor base64"),
    (b"not json, not base64!", "neither JSON text nor base64"),
    (base64.b64encode(b"hello, world"), "base64, but not of a JSON object"),
    (base64.b64encode(base64.b64encode(json.dumps(_RECORD).encode())), "base64, but not of a JSON object"),
    (b'{"action": "upsert", "bucket": "b"', "not JSON"),
], ids=["binary", "text", "base64-of-text", "base64-twice", "truncated-json"])
def test_given_data_that_is_no_record_in_either_encoding_when_decoded_then_malformed_with_the_reason(stored, reason):
    from autotagger.domain.documents import MalformedRecord

    with pytest.raises(MalformedRecord, match=reason):
        decode_record(_kinesis_record(stored))


def test_given_a_batch_mixing_both_encodings_and_garbage_when_handled_then_only_the_garbage_is_reported(
        lambda_context):
    index = FakeImageIndex()
    handler = make_handler(lambda: index)
    batch = event("kinesis_batch.json")
    first = base64.b64decode(batch["Records"][0]["kinesis"]["data"])
    batch["Records"][0]["kinesis"]["data"] = base64.b64encode(base64.b64encode(first)).decode()
    batch["Records"][1]["kinesis"]["data"] = base64.b64encode(b"\x89PNG not a record").decode()
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[1]}]}
    assert document_id("image-vaults", "raw-image/dog.jpg") in index.documents


def test_given_the_bare_domain_endpoint_cdk_exports_when_the_index_is_built_then_it_is_signed_https(monkeypatch):
    from autotagger.index.opensearch import OpenSearchIndex

    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "search-images-abc.ca-central-1.es.amazonaws.com")
    monkeypatch.setenv("INDEX_NAME", "images_prod")
    monkeypatch.setenv("AWS_REGION", "ca-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    index = load_lambda_module().index_from_environment()
    connection = index.client.transport.get_connection()
    assert isinstance(index, OpenSearchIndex) and index.index_name == "images_prod"
    assert connection.host == "https://search-images-abc.ca-central-1.es.amazonaws.com:443"
    assert connection.session.auth.region == "ca-central-1"


def test_given_a_handler_when_invoked_repeatedly_then_its_index_is_built_once(lambda_context):
    built = []

    def factory():
        built.append(FakeImageIndex())
        return built[-1]

    handler = make_handler(factory)
    handler(event("kinesis_batch.json"), lambda_context)
    handler(event("kinesis_batch.json"), lambda_context)
    assert len(built) == 1 and len(built[0].apply_calls) == 2


def test_given_two_handlers_in_one_process_when_each_handles_a_batch_then_each_writes_only_its_own_index(
        lambda_context):
    first, second = FakeImageIndex(), FakeImageIndex()
    first_handler, second_handler = make_handler(lambda: first), make_handler(lambda: second)
    first_handler(event("kinesis_batch.json"), lambda_context)
    second_handler(event("kinesis_out_of_order.json"), lambda_context)
    first_handler(event("kinesis_malformed.json"), lambda_context)
    assert (len(first.apply_calls), len(second.apply_calls)) == (2, 1)
    assert document_id("image-vaults", "raw-image/cat.png") in first.documents
    assert document_id("image-vaults", "raw-image/cat.png") not in second.documents


def test_given_no_index_anywhere_when_the_handler_runs_then_it_says_how_to_configure_one(
        handler, monkeypatch, lambda_context):
    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    monkeypatch.delenv("AUTOTAGGER_INDEX", raising=False)
    with pytest.raises(RuntimeError, match="configure"):
        handler(event("kinesis_batch.json"), lambda_context)


def test_given_no_index_at_first_when_the_environment_names_one_later_then_the_handler_uses_it(
        handler, tmp_path, monkeypatch, lambda_context):
    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    monkeypatch.delenv("AUTOTAGGER_INDEX", raising=False)
    with pytest.raises(RuntimeError):
        handler(event("kinesis_batch.json"), lambda_context)
    monkeypatch.setenv("AUTOTAGGER_INDEX", str(tmp_path / "later.db"))
    assert handler(event("kinesis_batch.json"), lambda_context) == {"batchItemFailures": []}
    assert SQLiteIndex(tmp_path / "later.db").search()["total"] == 2
