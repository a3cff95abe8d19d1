"""`make bench` / `python -m bench [--quick] [--only a,b] [--skip a,b]`: runs every benchmark,
writes bench/results.json and the tables of docs/performance.md.

Sections: engine (bench.bench_engine), labeler (bench.bench_labeler), pipeline (end to end, against
the analysers it runs alone; latency with and without the optional branches),
indexing, queries, read_api (the read API Lambda's handler per request), burst (uploads above the
DetectLabels quota), backfill (the Distributed Map locally, bench.bench_backfill), cost (scale and
cost on paper), normalize (the Normalize step: extra calls, ms and peak memory per HEIC / 40 MB JPEG,
mixed-format throughput), analysers (CPU per image of the labeler, Tesseract and NudeNet; drawn
signs read), profiles. A section that fails is recorded with its error and the others
still run; the exit status is then 1. With --only/--skip the sections run merge into the previous
results file, which records which sections came from a quick pass.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, log, machine

RESULTS = Path(REPO_ROOT) / "bench" / "results.json"
REPORT = Path(REPO_ROOT) / "docs" / "performance.md"


def _engine(quick: bool) -> dict[str, Any]:
    from bench import bench_engine

    return bench_engine.run(local_executions=500, moto_executions=4) if quick else bench_engine.run()


def _labeler(quick: bool) -> dict[str, Any]:
    from bench import bench_labeler

    return bench_labeler.run(rounds=1 if quick else 3)


def _pipeline(quick: bool) -> dict[str, Any]:
    from bench import bench_pipeline

    return bench_pipeline.run(quick=quick)


def _indexing(quick: bool) -> dict[str, Any]:
    from bench import bench_indexing

    return bench_indexing.run(quick=quick)


def _queries(quick: bool) -> dict[str, Any]:
    from bench import bench_queries

    return bench_queries.run(quick=quick)


def _read_api(quick: bool) -> dict[str, Any]:
    from bench import bench_read_api

    return bench_read_api.run(quick=quick)


def _burst(quick: bool) -> dict[str, Any]:
    from bench import bench_burst

    return bench_burst.run(uploads=200) if quick else bench_burst.run()


def _backfill(quick: bool) -> dict[str, Any]:
    from bench import bench_backfill

    return bench_backfill.run(objects=1000 if quick else 10_000)


def _cost(quick: bool) -> dict[str, Any]:
    from bench import cost_model

    return cost_model.run()


def _normalize(quick: bool) -> dict[str, Any]:
    from bench import bench_normalize

    return bench_normalize.run(quick=quick)


def _analysers(quick: bool) -> dict[str, Any]:
    from bench import bench_analysers

    return bench_analysers.run(quick=quick)


def _profiles(quick: bool) -> dict[str, Any]:
    from bench import profiles

    return profiles.run(quick=quick)


SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "engine": _engine, "labeler": _labeler, "pipeline": _pipeline, "indexing": _indexing,
    "queries": _queries, "read_api": _read_api, "burst": _burst, "backfill": _backfill, "cost": _cost,
    "normalize": _normalize, "analysers": _analysers, "profiles": _profiles,
}
SECTIONS["accuracy"] = lambda quick: __import__("bench.bench_accuracy", fromlist=["section"]).section(quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, documents and repetitions")
    parser.add_argument("--only", default="", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/performance.md")
    args = parser.parse_args(argv)
    chosen = [s for s in (args.only.split(",") if args.only else SECTIONS) if s]
    skipped = {s for s in args.skip.split(",") if s}
    unknown = (set(chosen) | skipped) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    info = machine()
    log(f"{info['cores']} cores ({info.get('cpu')}), python {info['python']}; quick={args.quick}")
    started = time.perf_counter()
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "quick": args.quick, "machine": info,
                               "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                               "sections": {}, "seconds": {}, "errors": {}}
    for name in chosen:
        if name in skipped:
            continue
        log(f"== {name}")
        t0 = time.perf_counter()
        try:
            results["sections"][name] = SECTIONS[name](args.quick)
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
            log(f"{name} failed:\n{traceback.format_exc()}")
        results["seconds"][name] = round(time.perf_counter() - t0, 1)
        log(f"{name}: {results['seconds'][name]} s")
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    merged = _merge_previous(results) if args.only or args.skip else results
    RESULTS.write_text(json.dumps(merged, indent=2, default=str) + "\n", encoding="utf-8")
    log(f"wrote {RESULTS.relative_to(REPO_ROOT)}")
    if not args.no_report:
        from bench.report import render

        REPORT.write_text(render(merged), encoding="utf-8")
        log(f"wrote {REPORT.relative_to(REPO_ROOT)}")
    log(f"total {results['total_seconds']} s")
    return 1 if results["errors"] else 0


def _merge_previous(results: dict[str, Any]) -> dict[str, Any]:
    """A partial run (--only/--skip) keeps the other sections of the previous results file."""
    try:
        previous = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return results
    merged = dict(results)
    for key in ("sections", "seconds", "errors"):
        combined = {k: v for k, v in previous.get(key, {}).items() if k not in results["sections"]
                    and k not in results["errors"]}
        combined.update(results[key])
        merged[key] = combined
    merged["partial_run"] = sorted(results["sections"]) + sorted(results["errors"])
    # `quick` describes this run's sections only; which kept sections came from a quick pass stays recorded.
    kept = set(merged["sections"]) - set(results["sections"])
    before = set(previous["quick_sections"]) if "quick_sections" in previous else \
        set(previous.get("sections", {})) if previous.get("quick") else set()
    merged["quick_sections"] = sorted((before & kept) | (set(results["sections"]) if results["quick"] else set()))
    return merged


if __name__ == "__main__":
    sys.exit(main())
