"""Scale and cost on paper, read from the artefacts that deploy: the ASL file and the synthesized
CloudFormation template.

* State transitions per image (Step Functions Standard bills one per state entered, states inside
  a Parallel state's branches included; retries are billed too but excluded here): every path from
  StartAt to a terminal state is walked on the ASL graph (Choice branches and Default, Next, Catch),
  and a Parallel state adds the states each of its branches enters, so the success paths (upsert,
  delete) and each dead-letter path get their count (a dead letter through a Parallel state counts
  its branches in full: an upper bound, a failing branch stops the others early).
* The analyses (contracts.ANALYSES): labels only, labels + text, all three; a switched-off analysis
  costs no Rekognition call but the same transitions (its branch's Choice and Pass).
* Cost per 1,000 images, Standard versus Express, at the prices below (us-east-1, with the date
  and the page they were read from).
* The extra transitions of a burst above the DetectLabels quota: the throttling Retry of the ASL's
  DetectLabels state (its numbers read from the file) turned into retries per image and their
  price per 1,000 images (the arithmetic of docs/robustness.md, "Bursts above the Rekognition quota").
* Images per second the deployment sustains: the smallest of the per-service ceilings (Rekognition
  DetectLabels TPS quota, Step Functions quotas / transitions per image, the API usage plan, the
  stream and the indexer's concurrency from the template).

    python -m bench.cost_model [--template cdk.out/Autotagger.template.json]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotagger.contracts import ANALYSES, BACKFILL_ITEMS_PER_BATCH, OPTIONAL_ANALYSES
from bench.common import REPO_ROOT
from cdk.config import REKOGNITION_DETECT_LABELS_TPS

ASL_FILE = Path(REPO_ROOT) / "statemachine" / "image_tagging.asl.json"
BACKFILL_ASL_FILE = Path(REPO_ROOT) / "statemachine" / "backfill.asl.json"
STACK_TEMPLATE = "Autotagger.template.json"
TERMINAL = ("Succeed", "Fail")
PRICES_READ_ON = "2026-11-25"


@dataclass(frozen=True)
class Figure:
    """A price or quota with where it comes from. `checked` is False when the number could not be
    read back from the source during this work (then it is the documented default as recalled:
    check the link before relying on it)."""

    value: float
    unit: str
    source: str
    checked: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "source": self.source, "checked": self.checked,
                **({"note": self.note} if self.note else {})}


REGION = "us-east-1"
PRICES = {
    "sfn_standard_per_transition": Figure(
        0.025 / 1000, "USD per state transition",
        "https://aws.amazon.com/step-functions/pricing/ ; $25 per million transitions restated in "
        "https://www.wring.co/blog/aws-step-functions-pricing-guide (2026-03-14)", True,
        "4,000 free transitions per month not deducted; retries are billed as transitions"),
    "sfn_express_per_request": Figure(
        1.00 / 1_000_000, "USD per execution", "https://aws.amazon.com/step-functions/pricing/ ; "
        "https://www.wring.co/blog/aws-step-functions-pricing-guide (2026-03-14)", True),
    "sfn_express_per_gb_second": Figure(
        0.00001667, "USD per GB-second (first tier)", "https://aws.amazon.com/step-functions/pricing/ ; "
        "https://www.wring.co/blog/aws-step-functions-pricing-guide (2026-03-14)", True,
        "duration rounded up to 100 ms, memory billed in 64 MB chunks"),
    "rekognition_detect_labels_per_image": Figure(
        0.001, "USD per image (first 1M images/month)", "https://aws.amazon.com/rekognition/pricing/", False,
        "DetectLabels is a Group 2 API (pricing page); the tier price was not shown in the excerpts read"),
    "rekognition_detect_text_per_image": Figure(
        0.001, "USD per image (first 1M images/month)", "https://aws.amazon.com/rekognition/pricing/", False,
        "Group 2 like DetectLabels ('Group 2: DetectFaces, DetectModerationLabels, DetectLabels, DetectText, "
        "RecognizeCelebrities, DetectProtectiveEquipment'), so the same tier price; each API run on an image is "
        "billed as one image (pricing page)"),
    "rekognition_detect_moderation_labels_per_image": Figure(
        0.001, "USD per image (first 1M images/month)", "https://aws.amazon.com/rekognition/pricing/", False,
        "Group 2 like DetectLabels (pricing page), so the same tier price"),
    "lambda_arm64_per_gb_second": Figure(0.0000133334, "USD per GB-second (arm64)",
                                         "https://aws.amazon.com/lambda/pricing/", False),
    "lambda_per_request": Figure(0.20 / 1_000_000, "USD per invocation",
                                 "https://aws.amazon.com/lambda/pricing/", False),
    "s3_put_per_request": Figure(0.005 / 1000, "USD per PUT request (S3 Standard)", "https://aws.amazon.com/s3/pricing/",
                                 False),
    "s3_get_per_request": Figure(0.0004 / 1000, "USD per GET request (S3 Standard)", "https://aws.amazon.com/s3/pricing/",
                                 False),
}
QUOTAS = {
    "rekognition_detect_labels_tps": Figure(
        REKOGNITION_DETECT_LABELS_TPS, "transactions per second, DetectLabels, us-east-1 (adjustable)",
        "https://docs.aws.amazon.com/general/latest/gr/rekognition.html#limits_rekognition", False,
        "default TPS quota; smaller in most other regions"),
    "sfn_standard_start_execution_refill": Figure(
        300, "StartExecution per second (refill rate, bucket 1,300), us-east-1",
        "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html", False),
    "sfn_standard_state_transitions_refill": Figure(
        5000, "state transitions per second (refill rate), us-east-1",
        "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html", False,
        "new accounts start lower; AWS raises it with usage"),
    "sfn_express_start_execution_refill": Figure(
        6000, "StartExecution per second (Express, refill rate)",
        "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html", False),
    "kinesis_on_demand_initial_records_per_second": Figure(
        4000, "records per second (on-demand stream at creation, 4 MiB/s)",
        "https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html", False),
    "kinesis_shard_records_per_second": Figure(
        1000, "records per second per shard (writes)",
        "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html", False),
}
ASSUMPTIONS = {
    "express_duration_seconds": 1.0,  # DetectLabels round trip dominates; rounded up to 100 ms
    "express_memory_mb": 64,          # small payloads: the minimum chunk
    "indexer_batch_seconds": 0.5,     # one bulk request of <= 100 documents
    "on_demand_initial_shards": 4,    # 4 MiB/s at creation = 4 shards' worth
    "backfill_express_batch_seconds": 1.0,  # an inline Express batch: its objects side by side, ~one DetectLabels
    # One normalisation on Lambda arm64 at the deployed memory. bench/bench_normalize.py measured a
    # 12 MP HEIC at 2.2 s and a 40 MB camera JPEG at 2.3 s (medians of 3, wall) on a shared 2-core
    # x86 host at load 4-6; Lambda gives 1,024 MB about 0.58 vCPU: about 2.5 s assumed.
    "normalize_seconds": 2.5,
}


# -- the ASL walk ----------------------------------------------------------------------------

def load_asl(path: Path = ASL_FILE) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def successors(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, next state) of every way out of a state, retries excluded."""
    out: list[tuple[str, str]] = []
    if state["Type"] == "Choice":
        for number, choice in enumerate(state.get("Choices", [])):
            out.append((f"choice {number}", choice["Next"]))
        if "Default" in state:
            out.append(("default", state["Default"]))
    elif state["Type"] not in TERMINAL and not state.get("End"):
        out.append(("next", state["Next"]))
    for catcher in state.get("Catch", []):
        out.append((f"catch {'/'.join(catcher['ErrorEquals'])}", catcher["Next"]))
    seen, unique = set(), []
    for label, target in out:
        if target not in seen:  # two Choice rules to the same state are one path
            seen.add(target)
            unique.append((label, target))
    return unique


def walk_paths(asl: dict[str, Any]) -> list[list[str]]:
    """Every path (list of state names) from StartAt to a terminal state. The graph is acyclic
    apart from retries, which are not edges; a cycle would raise."""
    states = asl["States"]
    paths: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise ValueError(f"cycle through {name}: transitions per image are unbounded")
        path = path + [name]
        state = states[name]
        nexts = successors(state)
        if not nexts or state.get("End"):  # an End state ends a path even when its Catch leads on
            paths.append(path)
        for _, target in nexts:
            visit(target, path)

    visit(asl["StartAt"], [])
    return paths


ANALYSIS_RESOURCES = {"arn:aws:states:::aws-sdk:rekognition:detectLabels": "labels",
                      "arn:aws:states:::aws-sdk:rekognition:detectText": "text",
                      "arn:aws:states:::aws-sdk:rekognition:detectModerationLabels": "moderation"}
PRICE_OF_ANALYSIS = {"labels": "rekognition_detect_labels_per_image", "text": "rekognition_detect_text_per_image",
                     "moderation": "rekognition_detect_moderation_labels_per_image"}
SCENARIOS = {"labels only": ("labels",), "labels + text": ("labels", "text"), "all three": ANALYSES}
"""The analyses a deployment may run (DetectLabels always; DetectText and DetectModerationLabels switchable)."""


def branch_transitions(branch: dict[str, Any], enabled: tuple[str, ...] = ANALYSES) -> int:
    """States one Parallel branch enters when its analysis succeeds: the path through its Task when
    the analysis is switched on, the path without one (the setting's Choice and a Pass) when off.
    Paths through a Catch target (a recorded failure) are left out."""
    states = branch["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    analysis = next(ANALYSIS_RESOURCES[t["Resource"]] for t in tasks.values() if t["Resource"] in ANALYSIS_RESOURCES)
    caught = {c["Next"] for t in tasks.values() for c in t.get("Catch", [])}
    paths = [p for p in walk_paths(branch) if not caught & set(p)]
    calls = [p for p in paths if set(p) & set(tasks)]
    skips = [p for p in paths if not set(p) & set(tasks)]
    chosen = calls if analysis in enabled else skips
    if not chosen:
        raise ValueError(f"the {analysis} branch has no path {'calling' if analysis in enabled else 'skipping'} it")
    return min(len(p) for p in chosen)


def parallel_transitions(path: list[str], asl: dict[str, Any], enabled: tuple[str, ...] = ANALYSES) -> int:
    """The states entered inside the Parallel states on `path`."""
    return sum(branch_transitions(branch, enabled) for name in path
               for branch in asl["States"][name].get("Branches", []))


def classify(path: list[str], asl: dict[str, Any]) -> dict[str, Any]:
    states = asl["States"]
    end = states[path[-1]]["Type"]
    tasks = [name for name in path if states[name]["Type"] == "Task"]
    if end == "Succeed":
        kind = "success"
        if "PutRecord" not in path:
            reason = "ignored"  # an event for a derivative: nothing to record
        else:
            reason = "delete" if any("Delete" in name for name in path) else "upsert"
    else:
        kind = "dead letter"
        before = path[path.index(next(n for n in path if "DeadLetter" in n)) - 1]
        reason = before
    return {"kind": kind, "via": reason, "states": path, "transitions": len(path) + parallel_transitions(path, asl),
            "tasks": tasks}


def transitions(asl: dict[str, Any] | None = None) -> dict[str, Any]:
    asl = asl or load_asl()
    paths = [classify(path, asl) for path in walk_paths(asl)]
    upserts = [p for p in paths if p["kind"] == "success" and p["via"] == "upsert"]
    direct = min((p for p in upserts if "Normalize" not in p["tasks"]), key=lambda p: p["transitions"])
    normalized = min((p for p in upserts if "Normalize" in p["tasks"]), key=lambda p: p["transitions"])
    by_analyses = {scenario: len(direct["states"]) + parallel_transitions(direct["states"], asl, enabled)
                   for scenario, enabled in SCENARIOS.items()}
    return {"rule": "one transition per state entered (Succeed/Fail and states in Parallel branches included), "
                    "retries excluded",
            "per_image_upsert": direct["transitions"],
            "per_image_upsert_by_analyses": by_analyses,
            "per_image_normalized_upsert": normalized["transitions"], "paths": paths,
            "dead_letter_range": [min(p["transitions"] for p in paths if p["kind"] != "success"),
                                  max(p["transitions"] for p in paths if p["kind"] != "success")]}


# -- bursts: the throttling Retry's extra transitions ---------------------------------------------

THROTTLING_ERROR = "Rekognition.ThrottlingException"
BURST = {"factor": 10, "seconds": 300}
"""The burst issue 12 asks the workflow to absorb: ten times the quota for five minutes."""


def throttling_retrier(asl: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Retry entry of the DetectLabels task that catches Rekognition's throttling."""
    asl = asl or load_asl()
    for state in all_states(asl):
        if state.get("Resource", "").endswith(":rekognition:detectLabels"):
            for retrier in state.get("Retry", []):
                if THROTTLING_ERROR in retrier["ErrorEquals"]:
                    return retrier
    raise ValueError(f"no DetectLabels Retry catches {THROTTLING_ERROR}")


def all_states(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state of a definition, those in Parallel branches included."""
    found: list[dict[str, Any]] = []
    for state in graph["States"].values():
        found.append(state)
        for branch in state.get("Branches", []):
            found.extend(all_states(branch))
    return found


def retry_caps(retrier: dict[str, Any]) -> list[float]:
    """The longest wait before each retry: IntervalSeconds x BackoffRate^n, capped at MaxDelaySeconds
    (with full jitter the wait is uniform between 0 and that cap)."""
    interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", math.inf)
    return [min(interval * rate ** n, cap) for n in range(retrier.get("MaxAttempts", 3))]


def burst_retries(retrier: dict[str, Any] | None = None, *, factor: int = BURST["factor"],
                  seconds: int = BURST["seconds"]) -> dict[str, Any]:
    """Retries and their price for a burst of `factor` times the quota Q for `seconds`.

    Arrivals are uniform over the burst (factor·Q a second) and Rekognition serves Q a second, so the
    i-th image waits about i/Q - i/(factor·Q) seconds; waiting W seconds takes the number of retries
    whose expected waits (half of each cap, full jitter) add up to W. Q cancels out. Each retry is a
    billed state transition ("each retry ... as an additional state transition", Step Functions
    pricing)."""
    retrier = retrier or throttling_retrier()
    caps = retry_caps(retrier)
    expected = list(itertools.accumulate(cap / 2 for cap in caps))
    images = factor * seconds  # per unit of quota (Q = 1); the averages do not depend on Q
    waits = [i * (1 - 1 / factor) for i in range(images)]
    retries = [min(bisect.bisect_left(expected, wait) + 1 if wait > 0 else 0, len(caps)) for wait in waits]
    mean_retries = sum(retries) / len(retries)
    price = PRICES["sfn_standard_per_transition"].value
    return {
        "retrier": {k: retrier[k] for k in ("ErrorEquals", "IntervalSeconds", "BackoffRate", "MaxDelaySeconds",
                                            "MaxAttempts", "JitterStrategy") if k in retrier},
        "longest_retrying_seconds": round(sum(caps)), "expected_retrying_seconds": round(sum(caps) / 2),
        "burst": {"times_quota": factor, "seconds": seconds, "drain_seconds": images},
        "mean_wait_seconds": round(sum(waits) / len(waits)),
        "mean_retries_per_image": round(mean_retries, 1),
        "images_out_of_retries_per_1000": round(1000 * sum(r >= len(caps) for r in retries) / len(retries), 3),
        "extra_transitions_per_1000_images": round(1000 * mean_retries),
        "extra_cost_per_1000_images_usd": round(1000 * mean_retries * price, 4),
    }


# -- the template ----------------------------------------------------------------------------

def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == kind}


def _only(template: dict[str, Any], kind: str, hint: str | None = None) -> dict[str, Any]:
    found = _resources(template, kind)
    if hint:
        found = {k: v for k, v in found.items() if hint in k} or found
    if len(found) != 1:
        raise ValueError(f"expected one {kind}{f' ({hint})' if hint else ''}, found {len(found)}")
    return next(iter(found.values()))["Properties"]


def in_region(value: Any, template: dict[str, Any], region: str = REGION) -> Any:
    """`value` as deployed in `region`: an environment-agnostic template states region-dependent
    settings (the API rate, from the region's DetectLabels quota) as Fn::If over AWS::Region."""
    if not isinstance(value, dict) or "Fn::If" not in value:
        return value
    condition, if_true, if_false = value["Fn::If"]
    chosen = if_true if _condition(template["Conditions"][condition], template, region) else if_false
    return in_region(chosen, template, region)


def _condition(expression: dict[str, Any], template: dict[str, Any], region: str) -> bool:
    (function, arguments), = expression.items()
    if function == "Fn::Equals":
        values = [region if argument == {"Ref": "AWS::Region"} else argument for argument in arguments]
        return values[0] == values[1]
    if function == "Fn::Or":
        return any(_condition(argument, template, region) for argument in arguments)
    if function == "Condition":
        return _condition(template["Conditions"][arguments], template, region)
    raise ValueError(f"condition {function} is not read by the cost model")


def read_template(template: dict[str, Any]) -> dict[str, Any]:
    """The settings that bound throughput and cost, as deployed."""
    stream = _only(template, "AWS::Kinesis::Stream")
    mapping = _only(template, "AWS::Lambda::EventSourceMapping")
    function_ref = mapping["FunctionName"]
    function_id = function_ref.get("Ref") if isinstance(function_ref, dict) else None
    functions = _resources(template, "AWS::Lambda::Function")
    function = functions[function_id]["Properties"] if function_id in functions else {}
    machine = _only(template, "AWS::StepFunctions::StateMachine", "Workflow")  # the tagging one, not the backfill
    plans = _resources(template, "AWS::ApiGateway::UsagePlan")
    throttle = next(iter(plans.values()))["Properties"].get("Throttle", {}) if plans else {}
    rules = _resources(template, "AWS::Events::Rule")
    retry = {}
    for rule in rules.values():
        for target in rule["Properties"].get("Targets", []):
            retry = target.get("RetryPolicy", retry)
    mode = stream.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
    return {
        "stream_mode": mode,
        "stream_shards": stream.get("ShardCount"),
        "stream_retention_hours": stream.get("RetentionPeriodHours"),
        "indexer_batch_size": mapping.get("BatchSize"),
        "indexer_parallelization_factor": mapping.get("ParallelizationFactor", 1),
        "indexer_batching_window_s": mapping.get("MaximumBatchingWindowInSeconds", 0),
        "indexer_memory_mb": function.get("MemorySize", 128),
        "normalize_memory_mb": next((f["Properties"].get("MemorySize", 128) for name, f in functions.items()
                                     if name.startswith("Normalizer")), None),
        "indexer_timeout_s": function.get("Timeout", 3),
        "indexer_architecture": (function.get("Architectures") or ["x86_64"])[0],
        "indexer_reserved_concurrency": function.get("ReservedConcurrentExecutions"),
        "state_machine_type": machine.get("StateMachineType", "STANDARD"),
        "state_machine_logging": machine.get("LoggingConfiguration", {}).get("Level"),
        "api_rate_limit": in_region(throttle.get("RateLimit"), template),
        "api_burst_limit": in_region(throttle.get("BurstLimit"), template),
        "rule_retry_attempts": retry.get("MaximumRetryAttempts"),
    }


def synthesize(outdir: Path) -> Path:
    """The stack synthesized in process (as tests/cdk does), into `outdir`."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import sys

    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    from aws_cdk import App

    from cdk.app import build_app, cdk_json_context

    app = App(context=cdk_json_context(), outdir=str(outdir))
    build_app(app)
    assembly = app.synth()
    return Path(assembly.stacks[0].template_full_path)


def _newest_source() -> float:
    roots = [Path(REPO_ROOT) / name for name in ("cdk", "statemachine", "functions")]
    files = [Path(REPO_ROOT) / "app.py", Path(REPO_ROOT) / "cdk.json"]
    for root in roots:
        files += [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return max((p.stat().st_mtime for p in files if p.exists()), default=0.0)


def find_template(explicit: str | None = None) -> tuple[dict[str, Any], str]:
    """An explicit file, else cdk.out's when newer than every CDK source, else a fresh synthesis."""
    if explicit:
        return json.loads(Path(explicit).read_text(encoding="utf-8")), explicit
    cached = Path(REPO_ROOT) / "cdk.out" / STACK_TEMPLATE
    if cached.is_file() and cached.stat().st_mtime >= _newest_source():
        return json.loads(cached.read_text(encoding="utf-8")), str(cached.relative_to(REPO_ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        path = synthesize(Path(tmp))
        return json.loads(path.read_text(encoding="utf-8")), "synthesized in process (aws_cdk)"


# -- the model -------------------------------------------------------------------------------

def ceilings(settings: dict[str, Any], per_image: int) -> dict[str, float]:
    """Images per second each part allows (one DetectLabels, one PutRecord, one document per image)."""
    q = {name: figure.value for name, figure in QUOTAS.items()}
    express = settings["state_machine_type"] == "EXPRESS"
    out = {"rekognition_detect_labels_tps": q["rekognition_detect_labels_tps"]}
    if express:
        out["step_functions_start_execution"] = q["sfn_express_start_execution_refill"]
    else:
        out["step_functions_start_execution"] = q["sfn_standard_start_execution_refill"]
        out["step_functions_state_transitions"] = q["sfn_standard_state_transitions_refill"] / per_image
    if settings["stream_mode"] == "ON_DEMAND":
        shards = ASSUMPTIONS["on_demand_initial_shards"]
        out["kinesis_writes"] = q["kinesis_on_demand_initial_records_per_second"]
    else:
        shards = settings["stream_shards"] or 1
        out["kinesis_writes"] = shards * q["kinesis_shard_records_per_second"]
    concurrency = shards * settings["indexer_parallelization_factor"]
    if settings["indexer_reserved_concurrency"]:
        concurrency = min(concurrency, settings["indexer_reserved_concurrency"])
    out["indexer"] = concurrency * settings["indexer_batch_size"] / ASSUMPTIONS["indexer_batch_seconds"]
    if settings["api_rate_limit"]:
        out["upload_api_usage_plan_per_key"] = float(settings["api_rate_limit"])
    return out


def cost_per_1000(per_image_transitions: int, settings: dict[str, Any],
                  analyses: tuple[str, ...] = ("labels",)) -> dict[str, Any]:
    """Step Functions, Rekognition (one call per image for each analysis in `analyses`) and the
    indexer for 1,000 tagged images. The analyses run side by side, so an Express execution lasts
    about as long with three as with one (the assumed duration is one call's round trip)."""
    p = {name: figure.value for name, figure in PRICES.items()}
    images = 1000
    standard = images * per_image_transitions * p["sfn_standard_per_transition"]
    billed_seconds = math.ceil(ASSUMPTIONS["express_duration_seconds"] * 10) / 10
    gb = math.ceil(ASSUMPTIONS["express_memory_mb"] / 64) * 64 / 1024
    express = images * (p["sfn_express_per_request"] + billed_seconds * gb * p["sfn_express_per_gb_second"])
    batches = math.ceil(images / settings["indexer_batch_size"])
    lambda_cost = batches * (p["lambda_per_request"] + ASSUMPTIONS["indexer_batch_seconds"]
                             * settings["indexer_memory_mb"] / 1024 * p["lambda_arm64_per_gb_second"])
    rekognition = images * sum(p[PRICE_OF_ANALYSIS[analysis]] for analysis in analyses)
    return {"images": images, "analyses": list(analyses), "step_functions_standard": round(standard, 6),
            "step_functions_express": round(express, 6),
            "standard_vs_express": round(standard / express, 1),
            "rekognition": round(rekognition, 6), "indexer_lambda": round(lambda_cost, 6),
            "standard_share_of_rekognition": round(standard / rekognition, 3),
            "total_standard": round(rekognition + standard + lambda_cost, 6),
            "total_express": round(rekognition + express + lambda_cost, 6)}


def cost_by_analyses(walk: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Per 1,000 images for each scenario of contracts' switchable analyses (README, "What it costs")."""
    assert set(OPTIONAL_ANALYSES) <= set(ANALYSES)
    return {scenario: cost_per_1000(walk["per_image_upsert_by_analyses"][scenario], settings, enabled)
            for scenario, enabled in SCENARIOS.items()}


# -- the backfill: child Standard executions versus the analysis inline in Express children ------------

def _processor(state: dict[str, Any]) -> dict[str, Any]:
    return state.get("ItemProcessor") or state["Iterator"]


def backfill_transitions(asl: dict[str, Any] | None = None) -> dict[str, Any]:
    """State transitions the backfill itself adds, read from backfill.asl.json: per object (the inline
    iteration of a batch, its success path) and per batch (the batch child's own states)."""
    asl = asl or load_asl(BACKFILL_ASL_FILE)
    distributed = next(s for s in asl["States"].values() if s["Type"] == "Map")
    batch = _processor(distributed)
    inline = next(s for s in batch["States"].values() if s["Type"] == "Map")
    iteration = _processor(inline)
    per_object = min(len(path) for path in walk_paths(iteration)
                     if iteration["States"][path[-1]].get("Parameters", {}).get("status") == "SUCCEEDED")
    per_batch = min(len(path) for path in walk_paths(batch) if batch["States"][path[-1]]["Type"] == "Succeed")
    return {"per_object": per_object, "per_batch": per_batch}


def backfill_cost_per_million(per_image_upsert: int, items_per_batch: int,
                              backfill: dict[str, Any] | None = None) -> dict[str, Any]:
    """Re-tagging a million stored images, two ways:

    * child Standard executions (what backfill.asl.json does): every object runs the tagging state
      machine (`per_image_upsert` transitions) from a Standard batch child (its per-object and
      per-batch transitions);
    * the analysis inline in Express children: one Express execution per batch runs DetectLabels
      and PutRecord for its objects, billed per request and GB-second.

    DetectLabels costs the same either way and dominates both."""
    p = {name: figure.value for name, figure in PRICES.items()}
    backfill = backfill or backfill_transitions()
    images = 1_000_000
    batches = math.ceil(images / items_per_batch)
    standard_transitions = images * (per_image_upsert + backfill["per_object"]) + batches * backfill["per_batch"]
    standard = standard_transitions * p["sfn_standard_per_transition"]
    billed_seconds = math.ceil(ASSUMPTIONS["backfill_express_batch_seconds"] * 10) / 10
    gb = math.ceil(ASSUMPTIONS["express_memory_mb"] / 64) * 64 / 1024
    express = batches * (p["sfn_express_per_request"] + billed_seconds * gb * p["sfn_express_per_gb_second"])
    rekognition = images * p["rekognition_detect_labels_per_image"]
    return {
        "images": images, "items_per_batch": items_per_batch,
        "child_standard": {"transitions": standard_transitions, "step_functions_usd": round(standard, 2),
                           "total_with_rekognition_usd": round(standard + rekognition, 2)},
        "inline_express": {"executions": batches, "step_functions_usd": round(express, 2),
                           "total_with_rekognition_usd": round(express + rekognition, 2)},
        "rekognition_detect_labels_usd": round(rekognition, 2),
        "chosen": "child_standard",
        "why": "the tagging workflow itself, unchanged, per object: one definition of the analysis and its "
               "dead letters, and its hour-long DetectLabels throttling budget, which an Express child (5 "
               "minutes at most, no .sync, at-least-once) cannot hold; it costs "
               f"{round(standard - express, 2)} USD more per million images, "
               f"{round(100 * (standard - express) / (express + rekognition), 1)} % of the total",
    }


def normalize_cost_per_1000(walk: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    """What 1,000 images that need the Normalize task cost on top of 1,000 that do not: one
    invocation each (at the deployed memory), the extra state transitions, S3's GET and PUT."""
    if not settings.get("normalize_memory_mb"):
        return None
    p = {name: figure.value for name, figure in PRICES.items()}
    images = 1000
    gb_seconds = ASSUMPTIONS["normalize_seconds"] * settings["normalize_memory_mb"] / 1024
    function = images * (p["lambda_per_request"] + gb_seconds * p["lambda_arm64_per_gb_second"])
    extra = walk["per_image_normalized_upsert"] - walk["per_image_upsert"]
    transitions_cost = images * extra * p["sfn_standard_per_transition"]
    s3 = images * (p["s3_get_per_request"] + p["s3_put_per_request"])
    return {"memory_mb": settings["normalize_memory_mb"], "seconds_each": ASSUMPTIONS["normalize_seconds"],
            "lambda": round(function, 6), "extra_transitions_each": extra, "step_functions_standard": round(
                transitions_cost, 6), "s3_requests": round(s3, 6), "total": round(function + transitions_cost + s3, 6)}


def run(template_path: str | None = None) -> dict[str, Any]:
    template, origin = find_template(template_path)
    settings = read_template(template)
    walk = transitions()
    per_image = walk["per_image_upsert"]
    limits = ceilings(settings, per_image)
    bottleneck = min(limits, key=limits.get)
    backend = {k: v for k, v in limits.items() if k != "upload_api_usage_plan_per_key"}
    return {
        "region": REGION, "prices_read_on": PRICES_READ_ON, "template": origin, "settings": settings,
        "transitions": walk, "ceilings_images_per_second": {k: round(v, 1) for k, v in limits.items()},
        "sustained_images_per_second": round(limits[bottleneck], 1), "bottleneck": bottleneck,
        "sustained_without_api_gateway": round(min(backend.values()), 1),
        "backend_bottleneck": min(backend, key=backend.get),
        "cost_per_1000_images_usd": cost_per_1000(per_image, settings, ANALYSES),
        "cost_per_1000_images_by_analyses_usd": cost_by_analyses(walk, settings),
        "burst_above_the_quota": burst_retries(),
        "backfill_per_million_images": backfill_cost_per_million(per_image, BACKFILL_ITEMS_PER_BATCH),
        "normalize_cost_per_1000_normalised_images_usd": normalize_cost_per_1000(walk, settings),
        "prices": {k: v.as_dict() for k, v in PRICES.items()}, "quotas": {k: v.as_dict() for k, v in QUOTAS.items()},
        "assumptions": ASSUMPTIONS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost_model")
    parser.add_argument("--template", help="a synthesized template (default: cdk.out if fresh, else synthesize)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.template), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
