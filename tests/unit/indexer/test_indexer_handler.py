"""functions/indexer/handler.py with Kinesis events from tests/events/ (partial batch responses)."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import pytest

from autotagger import indexing
from autotagger.domain.documents import document_id
from autotagger.index.sqlite import SQLiteIndex
from tests.fakes import FakeImageIndex

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "events"


def load_handler():
    """Loads handler.py by path, as Lambda does (it is the asset's top-level module)."""
    spec = importlib.util.spec_from_file_location("indexer_handler_under_test", ROOT / "functions/indexer/handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def event(name):
    return json.loads((EVENTS / name).read_text())


def sequence_numbers(batch):
    return [record["kinesis"]["sequenceNumber"] for record in batch["Records"]]


@pytest.fixture(scope="module")
def handler():
    return load_handler()


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    yield
    indexing.configure(None)


def test_given_a_valid_batch_when_handled_then_no_failures_and_one_apply_call(handler, lambda_context):
    index = FakeImageIndex()
    indexing.configure(index)
    assert handler(event("kinesis_batch.json"), lambda_context) == {"batchItemFailures": []}
    assert len(index.apply_calls) == 1 and len(index.apply_calls[0]) == 3


def test_given_a_valid_batch_when_handled_then_documents_follow_the_contract(handler, lambda_context):
    index = FakeImageIndex()
    indexing.configure(index)
    handler(event("kinesis_batch.json"), lambda_context)
    dog = index.documents[document_id("image-vaults", "raw-image/dog.jpg")]
    assert dog["tags"] == ["Dog", "Mammal", "Animal"] and dog["size"] == 5 and dog["sequencer"] == "617f08299329d189"
    assert index.documents[document_id("image-vaults", "raw-image/old.jpg")]["deleted"] is True


def test_given_one_malformed_record_when_handled_then_only_it_is_reported(handler, lambda_context):
    index = FakeImageIndex()
    indexing.configure(index)
    batch = event("kinesis_malformed.json")
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[1]}]}
    assert len(index.documents) == 2


def test_given_a_bulk_item_error_when_handled_then_only_that_record_is_reported(handler, lambda_context):
    index = FakeImageIndex(failing={document_id("image-vaults", "raw-image/cat.png")})
    indexing.configure(index)
    batch = event("kinesis_batch.json")
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[1]}]}


def test_given_an_older_event_after_a_newer_one_when_handled_then_it_is_stale_not_a_failure(handler, lambda_context):
    index = FakeImageIndex()
    indexing.configure(index)
    assert handler(event("kinesis_out_of_order.json"), lambda_context) == {"batchItemFailures": []}
    assert index.documents[document_id("image-vaults", "raw-image/dog.jpg")]["tags"][0] == "Dog"


def test_given_every_record_fails_when_handled_then_all_are_reported_instead_of_raising(handler, lambda_context):
    batch = event("kinesis_batch.json")
    indexing.configure(FakeImageIndex(failing={document_id("image-vaults", key) for key in
                                            ("raw-image/dog.jpg", "raw-image/cat.png", "raw-image/old.jpg")}))
    response = handler(batch, lambda_context)
    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == sequence_numbers(batch)


def test_given_data_that_is_not_base64_when_handled_then_the_record_is_reported(handler, lambda_context):
    batch = event("kinesis_batch.json")
    batch["Records"][0]["kinesis"]["data"] = "%%% not base64 %%%"
    indexing.configure(FakeImageIndex())
    response = handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(batch)[0]}]}


def test_given_the_sqlite_index_when_a_batch_is_handled_then_the_images_are_searchable(
        handler, tmp_path, lambda_context):
    index = SQLiteIndex(tmp_path / "index.db")
    indexing.configure(index)
    handler(event("kinesis_batch.json"), lambda_context)
    assert [image["key"] for image in index.search(tags=["Mammal"])["images"]] == ["raw-image/cat.png",
                                                                                    "raw-image/dog.jpg"]


def test_given_no_configured_index_when_the_environment_names_a_sqlite_file_then_it_is_used(
        handler, tmp_path, monkeypatch, lambda_context):
    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    monkeypatch.setenv("AUTOTAGGER_INDEX", str(tmp_path / "env.db"))
    handler(event("kinesis_batch.json"), lambda_context)
    assert SQLiteIndex(tmp_path / "env.db").search()["total"] == 2


def test_given_a_display_threshold_in_the_environment_when_handled_then_tags_follow_it(
        handler, monkeypatch, lambda_context):
    monkeypatch.setenv("DISPLAY_THRESHOLD", "50")
    index = FakeImageIndex()
    indexing.configure(index)
    handler(event("kinesis_batch.json"), lambda_context)
    assert "Grass" in index.documents[document_id("image-vaults", "raw-image/dog.jpg")]["tags"]


def test_given_metrics_enabled_when_handled_then_counts_are_emitted_in_the_namespace(
        handler, monkeypatch, capsys, lambda_context):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    indexing.configure(FakeImageIndex())
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
    assert indexing.decode_record(record)["key"] == "k.jpg"


def test_given_the_bare_domain_endpoint_cdk_exports_when_the_index_is_built_then_it_is_signed_https(monkeypatch):
    from autotagger.index.opensearch import OpenSearchIndex

    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "search-images-abc.ca-central-1.es.amazonaws.com")
    monkeypatch.setenv("INDEX_NAME", "images_prod")
    monkeypatch.setenv("AWS_REGION", "ca-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    index = indexing.current_index()
    connection = index.client.transport.get_connection()
    assert isinstance(index, OpenSearchIndex) and index.index_name == "images_prod"
    assert connection.host == "https://search-images-abc.ca-central-1.es.amazonaws.com:443"
    assert connection.session.auth.region == "ca-central-1"
    assert indexing.current_index() is index


def test_given_no_index_anywhere_when_the_handler_runs_then_it_says_how_to_configure_one(
        handler, monkeypatch, lambda_context):
    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    monkeypatch.delenv("AUTOTAGGER_INDEX", raising=False)
    with pytest.raises(RuntimeError, match="configure"):
        handler(event("kinesis_batch.json"), lambda_context)
