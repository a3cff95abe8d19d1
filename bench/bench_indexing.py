"""Indexing throughput: the project's ImageIndex adapters (SQLite file, OpenSearch API) versus the
original sample's approach (one bulk request with refresh=true per batch, id = MD5 of the file
name), on the same documents, for batches of 100 and 1,000. Documents per second, median of the
repetitions, and the ratio adapter / sample measured in the same run.

Two OpenSearch mappings: "flat" (labels stored, not indexed) for both batch sizes, and "template"
(the project's template.json, nested labels, as deployed) for batches of 100 only: osmem-server
indexes nested objects about 15x slower than flat ones, an emulator cost that would otherwise
dominate both sides and the run time. Both sides always get the same mapping.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import log, median, ratio, spread
from bench.synthetic_docs import synthetic_actions


def _batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _time_batches(write: Callable[[list], Any], batches: list[list]) -> float:
    start = time.perf_counter()
    for batch in batches:
        write(batch)
    return time.perf_counter() - start


def _check_applied(results: list[dict[str, Any]]) -> None:
    bad = [r for r in results if r.get("status") != "applied"]
    if bad:
        raise RuntimeError(f"{len(bad)} of {len(results)} actions not applied, e.g. {bad[0]}")


def sqlite_run(actions: list[dict], batch_size: int, workdir: Path, tag: str) -> float:
    from autotagger.index import open_index

    index = open_index(workdir / f"sqlite-{tag}.db")
    try:
        elapsed = _time_batches(lambda batch: _check_applied(index.apply(batch)), _batches(actions, batch_size))
    finally:
        index.close()
    return len(actions) / elapsed


def index_body(mapping: str, index_name: str) -> dict[str, Any]:
    """settings + mappings of the index both sides write to."""
    from autotagger.index.opensearch import load_template

    template = load_template(index_name)["template"]
    body = {"settings": template.get("settings", {}), "mappings": json.loads(json.dumps(template["mappings"]))}
    if mapping == "flat":
        body["mappings"]["properties"]["labels"] = {"type": "object", "enabled": False}
    return body


def opensearch_adapter_run(url: str, actions: list[dict], batch_size: int, tag: str, mapping: str) -> float:
    from autotagger.index import open_index

    name = f"image_insights_bench_{tag}"
    index = open_index(url, index_name=name)
    index.client.indices.create(index=name, body=index_body(mapping, name))
    index.ensure_ready()  # template + index are set-up, not indexing (the index exists: kept as created)
    try:
        elapsed = _time_batches(lambda batch: _check_applied(index.apply(batch)), _batches(actions, batch_size))
    finally:
        index.client.indices.delete(index=index.index_name, ignore_unavailable=True)
    return len(actions) / elapsed


def sample_run(url: str, actions: list[dict], batch_size: int, tag: str, mapping: str) -> float:
    from opensearchpy import OpenSearch

    from bench.sample_indexer import index_batch

    name = f"sample_bench_{tag}"
    client = OpenSearch(hosts=[url], timeout=120)
    client.indices.create(index=name, body=index_body(mapping, name))
    documents = [action["document"] for action in actions]

    def write(batch: list[dict]) -> None:
        answer = index_batch(client, batch, name)
        if answer.get("errors"):
            raise RuntimeError("sample bulk reported errors")

    try:
        elapsed = _time_batches(write, _batches(documents, batch_size))
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)
    return len(documents) / elapsed


def _plan(quick: bool) -> list[tuple[str, int, int]]:
    """(mapping, batch size, documents) of each measurement."""
    if quick:
        return [("flat", 100, 1000), ("flat", 1000, 2000), ("template", 100, 200)]
    return [("flat", 100, 3000), ("flat", 1000, 5000), ("template", 100, 300)]


def run(quick: bool = False, repeats: int | None = None) -> dict[str, Any]:
    from bench.osmem import opensearch_server

    repeats = repeats or (2 if quick else 3)
    plan = _plan(quick)
    actions = {(mapping, size): synthetic_actions(count, seed=size) for mapping, size, count in plan}
    names = ("sample_bulk_refresh", "opensearch_adapter", "sqlite_adapter")
    rates: dict[tuple, dict[str, list[float]]] = {key: {name: [] for name in names} for key in actions}
    with opensearch_server() as url, tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        workdir = Path(tmp)
        for rep in range(repeats):
            for mapping, size, count in plan:
                docs = actions[(mapping, size)]
                tag = f"{mapping}_{size}_{rep}"
                log(
                    f"indexing: {count} documents in batches of {size} ({mapping} mapping), "
                    f"repetition {rep + 1}/{repeats}"
                )
                measured = rates[(mapping, size)]
                measured["sample_bulk_refresh"].append(sample_run(url, docs, size, tag, mapping))
                measured["opensearch_adapter"].append(opensearch_adapter_run(url, docs, size, tag, mapping))
                if mapping == "flat":  # SQLite has no mapping: measured once per batch size
                    measured["sqlite_adapter"].append(sqlite_run(docs, size, workdir, tag))
    cases = []
    for mapping, size, count in plan:
        measured = rates[(mapping, size)]
        sample = median(measured["sample_bulk_refresh"])
        case: dict[str, Any] = {
            "mapping": mapping,
            "batch_size": size,
            "documents": count,
            "docs_per_second": {name: spread(values) for name, values in measured.items() if values},
            "opensearch_adapter_vs_sample": ratio(median(measured["opensearch_adapter"]), sample),
        }
        if measured["sqlite_adapter"]:
            case["sqlite_adapter_vs_sample"] = ratio(median(measured["sqlite_adapter"]), sample)
        cases.append(case)
    return {"repeats": repeats, "server": "osmem-server (in memory, loopback)", "cases": cases}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
