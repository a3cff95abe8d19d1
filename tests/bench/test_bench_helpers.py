"""The benchmark helpers' logic: profile parsing, synthetic documents, the report on partial results."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.profiles import categorize, parse_collapsed  # noqa: E402
from bench.report import render  # noqa: E402
from bench.sample_indexer import bulk_body, sample_document_id  # noqa: E402


def test_collapsed_stacks_go_to_the_innermost_part_and_waits_are_left_out():
    text = "\n".join([
        "process 1;thread 2;run (autotagger/workflow/machine.py:10);run (onnxruntime/capi/x.py:4) 30",
        "process 1;thread 2;run (autotagger/workflow/machine.py:10) 10",
        "process 1;thread 3;_run_shard (autotagger/local/stream.py:1);Condition.wait (threading.py:331) 50",
    ])
    parts, leaves, total = parse_collapsed(text)
    assert total == 40
    assert parts["onnxruntime inference"] == 30 and parts["workflow engine"] == 10
    assert parts["(waiting, excluded)"] == 50
    assert leaves["run (autotagger/workflow/machine.py:10)"] == 10
    assert categorize(["main (somewhere.py:1)"]) == "other"


def test_synthetic_documents_are_distinct_images_built_by_the_domain_code():
    from bench.synthetic_docs import synthetic_actions

    actions = synthetic_actions(50, pool=10)
    assert len({a["id"] for a in actions}) == 50
    assert all(a["document"]["tags"] is not None and a["document"]["event_time"].endswith("Z") for a in actions)
    assert len({a["sequencer"] for a in actions}) == 50


def test_the_sample_ids_documents_by_file_name_only():
    assert sample_document_id("raw-image/a/cat.jpg") == sample_document_id("other/cat.jpg")
    body = bulk_body([{"key": "raw-image/cat.jpg", "tags": ["Cat"]}], "images")
    assert body.count("\n") == 2 and '"_id": "' + sample_document_id("cat.jpg") + '"' in body


def test_report_renders_partial_results():
    text = render({"machine": {"cores": 2}, "sections": {}, "errors": {"queries": "boom"}, "total_seconds": 1.0})
    assert "2 cores" in text and "queries: boom" in text and "Not run." in text
