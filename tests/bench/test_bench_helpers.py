"""The benchmark helpers' logic: profile parsing, synthetic documents, the report on partial results."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

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


# -- the report is generated from the results, every figure of it -----------------------------------------

RESULTS_FILE = REPO_ROOT / "bench" / "results.json"
_NUMBER = re.compile(r"(?<![\w.$-])\d[\d,]*(?:\.\d+)?")  # not inside words (p50, MD5, VmHWM) or versions


def _perturbed(value, seed, path=""):
    """Every number of the results moved by its own factor (and offset, so zeros move too): a figure the
    report derives from them moves with them, a figure written by hand does not."""
    if isinstance(value, dict):
        return {k: _perturbed(v, seed, f"{path}/{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_perturbed(v, seed, f"{path}/{i}") for i, v in enumerate(value)]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    digest = int(hashlib.sha256(f"{seed}{path}".encode()).hexdigest()[:8], 16)
    if isinstance(value, int):
        return value * 3 + 7 + digest % 11
    return value * (0.2 + (digest % 1000) / 200) + 0.37 + (digest % 97) / 50


def _strings(value):
    """The text the results hold (string values and keys, as written and with _ as spaces)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield str(k).replace("_", " ")
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _copied_from_text(line: str, span: tuple[int, int], texts: set[str]) -> bool:
    """The number at `span` of `line` lies inside a string of the results rendered verbatim."""
    for text in texts:
        start = line.find(text)
        while start != -1:
            if start <= span[0] and span[1] <= start + len(text):
                return True
            start = line.find(text, start + 1)
    return False


def _as_newer_runs_write_them(results):
    """The committed results with what newer runs also record (per-thread CPU profile, each repetition's
    peak memory, how the run's end was taken), so those parts of the report are checked too."""
    results = json.loads(json.dumps(results))
    results["sections"]["profiles"]["pipeline"]["cpu_ms_per_image_by_thread"] = {
        "workflow tasks (DetectLabels: the labeler; PutRecord)": 104.5, "HTTP event loop (uvicorn, FastAPI)": 4.25,
        "workflow engine (executions, history, outbox)": 2.1}
    pipeline = results["sections"]["pipeline"]
    pipeline["peak_rss_mib"] = {"pipeline_server": {"median": 380.5, "min": 377.1, "max": 386.7,
                                                    "runs": [386.7, 380.5, 377.1]},
                                "labeler_only": {"median": 316.4, "min": 315.0, "max": 320.2, "runs": [320.2, 316.4, 315.0]}}
    pipeline["run_ends"] = "when the last is indexed (its `indexed_at`; `GET /v1/images` polled every 0.25 s to learn it)"
    # Issue 14: the analyses the pipeline ran (the baseline runs the same), latency with the optional branches off.
    pipeline["analyses"] = ["labels", "text", "moderation"]
    pipeline["latency_ms_labels_only"] = {"rate_per_second": 2.0, "samples": 8, "p50": 582.6, "p95": 654.1,
                                          "max": 670.5, "breakdown_p50": {"execution": 441.0}}
    results["sections"].setdefault("analysers", {"cpu_ms_per_image": {"labels": {"median": 310.0},
                                                                      "text": {"median": 850.0},
                                                                      "moderation": {"median": 160.0}}})
    # Issue 13: the Normalize step.
    results["sections"].setdefault("normalize", {
        "labeler": "decode-only", "analyses": ["labels"], "workers": 2,
        "calls": {"jpg": {"tasks": ["DetectLabels", "PutRecord"], "extra_calls": []},
                  "heic": {"tasks": ["Normalize", "DetectLabelsOnDerivative", "PutRecord"], "extra_calls": ["Normalize"]}},
        "per_image": {"heic_12mp": {"bytes": 1234567, "derivative": [3072, 4096], "ms_median": 2200.0,
                                    "peak_rss_mb_median": 142.0, "peak_rss_mb_max": 150.0}},
        "pipeline": {"images": 14, "repeats": 2, "mix": ["jpg", "heic"], "large_jpeg_mb": 40.2,
                     "jpeg_only": {"images_per_second": {"median": 9.0, "min": 8.0, "max": 10.0, "runs": [10.0, 8.0]},
                                   "failed": 0, "dead_letters": {"workflow": 0}},
                     "mixed_formats": {"images_per_second": {"median": 5.5, "min": 5.0, "max": 6.0, "runs": [5.0, 6.0]},
                                       "failed": 0, "dead_letters": {"workflow": 0}},
                     "mixed_small_formats": {"images_per_second": {"median": 7.5, "min": 7.0, "max": 8.0,
                                                                   "runs": [7.0, 8.0]}, "failed": 0},
                     "mixed_vs_jpeg_only": {"ratio_of_medians": 0.61, "per_repetition": {
                         "median": 0.62, "min": 0.5, "max": 0.75, "runs": [0.5, 0.75]}},
                     "mixed_small_vs_jpeg_only": {"ratio_of_medians": 0.83, "per_repetition": {
                         "median": 0.85, "min": 0.7, "max": 1.0, "runs": [0.7, 1.0]}}}})
    return results


@pytest.mark.parametrize("variant", [lambda r: r, _as_newer_runs_write_them], ids=["committed", "as newer runs write them"])
def test_every_number_in_the_report_comes_from_the_results(variant):
    results = variant(json.loads(RESULTS_FILE.read_text(encoding="utf-8")))
    original = render(results).splitlines()
    moved = [render(_perturbed(results, seed)).splitlines() for seed in ("a", "b")]
    assert all(len(m) == len(original) for m in moved), "the report's shape should not depend on the figures"
    texts = {t for t in _strings(results) if re.search(r"\d", t)}
    section = re.compile(r"^(#+) \d+\. ")  # section numbers
    fixed = []
    for before, *after in zip(original, *moved, strict=True):
        before = section.sub(r"\1 ", before)
        # A number that stays put under two different perturbations was not derived from them.
        unchanged = set.intersection(*(set(_NUMBER.findall(section.sub(r"\1 ", a))) for a in after))
        for match in _NUMBER.finditer(before):
            if match.group() in unchanged and not _copied_from_text(before, match.span(), texts):
                fixed.append(f"{match.group()!r} in: {before[:160]}")
    assert not fixed, "numbers that do not come from bench/results.json:\n" + "\n".join(fixed)


def _pipeline_results(pipeline_rates, labeler_rates):
    def spread(xs):
        return {"median": sorted(xs)[len(xs) // 2], "min": min(xs), "max": max(xs), "runs": xs}

    return {"machine": {"cores": 2}, "sections": {"pipeline": {
        "images": 40, "repeats": len(pipeline_rates), "workers": 2, "uploaders": 4, "target_ratio": 0.9,
        "pipeline_images_per_second": spread(pipeline_rates), "labeler_images_per_second": spread(labeler_rates),
        "latency_ms": {"rate_per_second": 2.0, "samples": 1, "p50": 1.0, "p95": 1.0, "max": 1.0}}}}


def test_the_target_is_met_only_when_the_ratio_of_medians_and_the_worst_repetition_reach_it():
    # Per repetition 1.0, 0.85, 1.0: median per repetition 1.0 and ratio of medians 1.0, worst repetition 0.85.
    text = render(_pipeline_results([10.0, 8.5, 10.0], [10.0, 10.0, 10.0]))
    assert ">= 0.90: **not met** (ratio of medians 1.00, worst repetition 0.85)" in text
    assert "| pipeline / labeler, images per second | **1.00** | 0.85 | 1.00 | 1.00, 0.85, 1.00 |" in text
    # Two repetitions at 0.95 and the medians at 0.95, one repetition at 0.86: not met.
    text = render(_pipeline_results([9.5, 9.5, 9.0], [10.0, 10.0, 10.5]))
    assert ">= 0.90: **not met** (ratio of medians 0.95, worst repetition 0.86)" in text
    text = render(_pipeline_results([9.5, 9.2, 9.9], [10.0, 10.0, 10.0]))
    assert ">= 0.90: met (ratio of medians 0.95, worst repetition 0.92)" in text


def test_GIVEN_analyser_figures_WHEN_reported_THEN_each_analysers_cpu_and_its_ratio_to_the_labeler_are_shown():
    from bench.bench_analysers import _ratios

    relative = {"text": _ratios([0.8, 0.9], [0.3, 0.3]), "moderation": _ratios([0.15, 0.18], [0.3, 0.3]),
                "all_three": _ratios([1.25, 1.38], [0.3, 0.3])}
    results = {"sections": {"analysers": {
        "photos": 12, "repetitions": 2, "model_versions": {"text": "tesseract-5.3.0-eng"},
        "cpu_ms_per_image": {"labels": {"median": 300.0}, "text": {"median": 850.0}, "moderation": {"median": 165.0}},
        "wall_ms_per_image": {}, "cpu_relative_to_labeler": relative, "signs": {"read": 3, "drawn": 6}}}}

    report = render(results)

    assert relative["text"]["ratio_of_medians"] == pytest.approx(850 / 300, abs=1e-3)
    assert relative["text"]["worst_repetition"] == 3.0  # a cost: the highest per-repetition ratio
    assert "| text | 850.0 | n/a | 2.83 | 3.00 |" in report
    assert "Drawn signs Tesseract reads: 3 of 6." in report


# -- issue 13: the Normalize step's extra calls, from real execution histories of the in-process pipeline ----

def test_GIVEN_a_jpeg_a_png_and_a_webp_WHEN_the_pipeline_runs_them_THEN_only_the_webp_makes_an_extra_call():
    from autotagger.local import task_adapters as ta
    from bench.bench_normalize import _small_images, calls_from_histories, pipeline_rate, task_resources
    from tests.fakes.labeler import FakeLabeler
    from tests.fakes.moderation_detector import FakeModerationDetector
    from tests.fakes.text_detector import FakeTextDetector

    # the mix's first formats: JPEG, PNG, HEIC, WebP (small: the test is about the path, not the pixels)
    jpeg, png, _heic, webp = _small_images(4, mix=True, size=(160, 120))
    assert (jpeg[2], png[2], webp[2]) == ("image/jpeg", "image/png", "image/webp")

    run = pipeline_rate([jpeg, png, webp], FakeLabeler(), analyses=True, text_detector=FakeTextDetector(),
                        moderation_detector=FakeModerationDetector())

    calls, resources = calls_from_histories(run["tasks"]), task_resources()
    assert run["failed"] == 0
    direct = {ta.DETECT_LABELS_ARN, ta.DETECT_TEXT_ARN, ta.DETECT_MODERATION_LABELS_ARN, ta.PUT_RECORD_ARN}
    for kind in ("jpg", "png"):  # the Parallel state's three analyses and PutRecord, nothing else
        assert calls[kind]["extra_calls"] == [] and calls[kind]["executions"] == 1
        assert sorted(resources[t] for t in calls[kind]["tasks"]) == sorted(direct)
    assert [resources[t] for t in calls["webp"]["extra_calls"]] == [ta.LAMBDA_INVOKE_ARN]


def _spread(xs):
    return {"median": sorted(xs)[len(xs) // 2], "min": min(xs), "max": max(xs), "runs": xs}


def test_GIVEN_normalize_figures_WHEN_reported_THEN_extra_calls_and_the_mixed_over_jpeg_ratio_are_shown():
    from bench.common import compare

    results = {"sections": {"normalize": {
        "labeler": "decode-only", "analyses": ["labels"], "workers": 2,
        "calls": {"jpg": {"tasks": ["DetectLabels", "PutRecord"], "extra_calls": []},
                  "heic": {"tasks": ["Normalize", "DetectLabelsOnDerivative", "PutRecord"], "extra_calls": ["Normalize"]}},
        "per_image": {"heic_12mp": {"bytes": 1000, "derivative": [3072, 4096], "ms_median": 900.0,
                                    "peak_rss_mb_median": 200.0, "peak_rss_mb_max": 210.0}},
        "pipeline": {"images": 14, "repeats": 2, "mix": ["jpg", "heic"], "large_jpeg_mb": 40.0,
                     "jpeg_only": {"images_per_second": _spread([10.0, 8.0]), "failed": 0},
                     "mixed_formats": {"images_per_second": _spread([5.0, 6.0]), "failed": 0},
                     "mixed_vs_jpeg_only": compare([5.0, 6.0], [10.0, 8.0])}}}}

    report = render(results)

    assert "| jpg | DetectLabels, PutRecord | none |" in report
    assert "| heic | Normalize, DetectLabelsOnDerivative, PutRecord | Normalize |" in report
    # ratio of medians 5.5 / 9.0; the worst repetition 5 / 10
    assert "| mixed formats / JPEG only | **0.61** | 0.50 | 0.62 | 0.50, 0.75 |" in report


def test_GIVEN_latency_without_the_optional_branches_WHEN_reported_THEN_both_rows_and_the_analysers_baseline_show():
    results = {"sections": {"pipeline": {
        "images": 16, "repeats": 2, "workers": 2, "uploaders": 4, "target_ratio": 0.9,
        "analyses": ["labels", "text", "moderation"],
        "pipeline_images_per_second": _spread([1.0, 1.2]), "labeler_images_per_second": _spread([1.1, 1.2]),
        "latency_ms": {"rate_per_second": 2.0, "samples": 8, "p50": 900.0, "p95": 1500.0, "max": 1600.0,
                       "breakdown_p50": {"execution": 800.0}},
        "latency_ms_labels_only": {"rate_per_second": 2.0, "samples": 8, "p50": 300.0, "p95": 450.0, "max": 500.0,
                                   "breakdown_p50": {"execution": 200.0}}}}}

    report = render(results)

    assert "| pipeline / analysers, images per second |" in report
    assert "| optional branches on | labels, text, moderation | 900.0 | 1,500.0 | 1,600.0 | 800.0 | 8 |" in report
    assert "| labels | 300.0 | 450.0 | 500.0 | 200.0 | 8 |" in report


def test_GIVEN_a_full_run_WHEN_a_quick_pass_of_one_section_is_merged_THEN_only_that_section_is_called_quick(
        tmp_path, monkeypatch):
    import bench.__main__ as main

    previous = {"quick": False, "sections": {"engine": {}, "pipeline": {}}, "seconds": {}, "errors": {}}
    monkeypatch.setattr(main, "RESULTS", tmp_path / "results.json")
    main.RESULTS.write_text(json.dumps(previous), encoding="utf-8")

    merged = main._merge_previous({"quick": True, "sections": {"normalize": {}}, "seconds": {}, "errors": {}})

    assert merged["quick_sections"] == ["normalize"] and set(merged["sections"]) == {"engine", "pipeline", "normalize"}
    assert "(full run; quick pass: normalize, partial: normalize)" in render(merged)
    main.RESULTS.write_text(json.dumps(merged), encoding="utf-8")
    # A full rerun of that section clears it; a quick one of another keeps both.
    assert main._merge_previous({"quick": False, "sections": {"normalize": {}}, "seconds": {},
                                 "errors": {}})["quick_sections"] == []
    assert main._merge_previous({"quick": True, "sections": {"pipeline": {}}, "seconds": {},
                                 "errors": {}})["quick_sections"] == ["normalize", "pipeline"]


# -- issue 15: the labeler's accuracy per set, with the models' recall ceiling --------------------------------

def test_GIVEN_accuracy_figures_WHEN_reported_THEN_each_set_its_ceiling_and_the_verdict_are_shown():
    from autotagger.labeler.vocabulary import default_vocabulary
    from bench.bench_accuracy import score

    photos = [{"name": "bug", "set": "evaluation", "expect": ["Insect", "Sky"], "allow": []},
              {"name": "cat", "set": "tuning", "expect": ["Cat"], "allow": []}]
    answers = {"bug": {"Labels": [{"Name": "Insect", "Confidence": 90.0, "Parents": [{"Name": "Animal"}]},
                                  {"Name": "Clock", "Confidence": 60.0, "Parents": []}]},
               "cat": {"Labels": []}}
    results = {"sections": {"accuracy": {"min_confidence": 55.0, "model_version": "m", "target_recall": 0.8,
                                         "sets": score(photos, answers, default_vocabulary())}}}

    report = render(results)

    assert "| evaluation | 1 | 0.500 | 0.500 | 0.500 | 0 | 1 |" in report  # Sky: no class can give it
    assert "| tuning | 1 | n/a | 0.000 | 1.000 | 1 | 0 |" in report
    assert "Wrong top-level labels, evaluation: bug: Clock 60." in report
    assert "recall >= 0.8, no photo without a label, no wrong top-level label): recall 0.500 (not met; the " \
           "models' ceiling is 0.500), 0 photos without a label, 1 wrong top-level labels." in report
