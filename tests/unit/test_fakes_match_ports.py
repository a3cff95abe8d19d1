"""Each fake of tests/fakes is its port: an isinstance check (runtime_checkable) and, member by
member, the same signature as the Protocol declares, so a port that changes fails its fake here
instead of letting tests run against a drifted stand-in."""

from __future__ import annotations

import inspect

import pytest

from autotagger import ports
from tests.fakes import (
    FakeDeadLetterQueue,
    FakeDeadLetters,
    FakeExecutionLookup,
    FakeExecutions,
    FakeImageIndex,
    FakeImageUrls,
    FakeLabeler,
    FakeModerationDetector,
    FakeObjectStore,
    FakeRecordStream,
    FakeTextDetector,
)

FAKES = [
    (ports.Labeler, FakeLabeler),
    (ports.TextDetector, FakeTextDetector),
    (ports.ModerationDetector, FakeModerationDetector),
    (ports.ObjectStore, FakeObjectStore),
    (ports.RecordStream, FakeRecordStream),
    (ports.DeadLetters, FakeDeadLetters),
    (ports.ImageIndex, FakeImageIndex),
    (ports.Executions, FakeExecutions),
    (ports.ExecutionLookup, FakeExecutionLookup),
    (ports.DeadLetterQueue, FakeDeadLetterQueue),
    (ports.ImageUrls, FakeImageUrls),
]


def port_methods(port: type) -> list[str]:
    return [name for name, value in vars(port).items() if callable(value) and not name.startswith("_")]


def port_attributes(port: type) -> list[str]:
    return list(vars(port).get("__annotations__", {}))


def signature_drift(port: type, implementation: type) -> list[str]:
    """What differs between the port's members and the implementation's ("" when none)."""
    drift = []
    for name in port_methods(port):
        method = getattr(implementation, name, None)
        if method is None:
            drift.append(f"{name}: missing")
        elif inspect.signature(method) != inspect.signature(getattr(port, name)):
            drift.append(f"{name}{inspect.signature(method)} != {name}{inspect.signature(getattr(port, name))}")
    return drift


def test_GIVEN_every_port_WHEN_listing_the_fakes_THEN_each_has_one():
    declared = {value for value in vars(ports).values()
                if isinstance(value, type) and getattr(value, "_is_protocol", False)
                and value.__module__ == ports.__name__}
    assert declared == {port for port, _ in FAKES}


@pytest.mark.parametrize("port, fake", FAKES, ids=[port.__name__ for port, _ in FAKES])
def test_GIVEN_a_fake_WHEN_checked_against_its_port_THEN_it_is_an_instance_with_the_same_signatures(port, fake):
    instance = fake()

    assert isinstance(instance, port)
    assert all(hasattr(instance, name) for name in port_attributes(port))
    assert signature_drift(port, fake) == []


def test_GIVEN_a_fake_whose_method_drifted_WHEN_checked_THEN_the_drift_is_reported():
    class DriftedIndex(FakeImageIndex):
        def count(self, live_only: bool = True) -> int:  # a parameter the port does not have
            return super().count()

    class IncompleteStream:
        def put_record(self, data: bytes, partition_key: str) -> dict[str, str]:
            return {}

    assert signature_drift(ports.ImageIndex, DriftedIndex) == [
        "count(self, live_only: 'bool' = True) -> 'int' != count(self) -> 'int'"]
    assert signature_drift(ports.RecordStream, IncompleteStream) == ["close: missing"]
    assert not isinstance(IncompleteStream(), ports.RecordStream)


@pytest.fixture
def local_adapters(tmp_path):
    """Each local adapter, as LocalStores composes it, keyed by its port."""
    from autotagger.config import Settings
    from autotagger.local.stores import LocalStores

    stores = LocalStores(Settings(data_dir=tmp_path / "data"))
    yield {ports.ObjectStore: stores.bucket, ports.RecordStream: stores.stream, ports.DeadLetters: stores.workflow_dlq,
           ports.ImageIndex: stores.index, ports.Executions: stores.executions}
    stores.close()


def test_GIVEN_the_local_adapters_WHEN_checked_against_their_ports_THEN_each_has_every_member(local_adapters):
    assert [port.__name__ for port, adapter in local_adapters.items() if not isinstance(adapter, port)] == []


def test_GIVEN_fault_wrappers_WHEN_checked_against_their_ports_THEN_they_keep_every_member_and_forward_reads():
    from autotagger.faults import FaultPlan

    plan = FaultPlan.parse(["labeler.fail", "stream.fail", "index.down"])
    labeler = plan.wrap("labeler", FakeLabeler(model_version="v7"))
    index = FakeImageIndex()
    wrapped_index = plan.wrap("index", index)
    index.documents["a"] = {"id": "a", "sequencer": "01", "tags": ["Dog"], "labels": [],
                            "event_time": "2026-01-01T00:00:00Z"}

    assert isinstance(labeler, ports.Labeler) and labeler.model_version == "v7"
    assert isinstance(FaultPlan.parse(["text.fail"]).wrap("text", FakeTextDetector()), ports.TextDetector)
    assert isinstance(FaultPlan.parse(["moderation.slow=1s"]).wrap("moderation", FakeModerationDetector()),
                      ports.ModerationDetector)
    assert isinstance(plan.wrap("stream", FakeRecordStream()), ports.RecordStream)
    assert isinstance(wrapped_index, ports.ImageIndex)
    assert (wrapped_index.count(), wrapped_index.get("a")["tags"], wrapped_index.search()["total"]) == (1, ["Dog"], 1)


def test_GIVEN_the_local_read_adapters_WHEN_checked_against_their_ports_THEN_each_has_the_same_signatures(tmp_path):
    from autotagger.local.read_adapters import LocalDeadLetterQueueView, LocalExecutionLookup, LocalImageUrls

    adapters = [(ports.ExecutionLookup, LocalExecutionLookup), (ports.DeadLetterQueue, LocalDeadLetterQueueView),
                (ports.ImageUrls, LocalImageUrls)]

    assert {port.__name__: signature_drift(port, adapter) for port, adapter in adapters} == {
        "ExecutionLookup": [], "DeadLetterQueue": [], "ImageUrls": []}
