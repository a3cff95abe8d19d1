"""The cost model's logic: the ASL walk, the template reading, the ceilings and the prices' sums.
Fast (no synthesis, no timing): a template with the synthesized stack's shape stands in for it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import cost_model  # noqa: E402
from bench.common import percentile  # noqa: E402


def test_upsert_path_is_the_walk_stated_in_the_asl():
    walk = cost_model.transitions()
    upsert = min((p for p in walk["paths"] if p["via"] == "upsert"), key=lambda p: p["transitions"])
    assert upsert["states"] == ["RouteEvent", "CheckObject", "AnalyzeOriginal", "Analyze", "BuildUpsertRecord",
                                "PutRecord", "Tagged"]
    # + the Parallel's branches: DetectLabels; CheckDetectText, DetectText; CheckDetectModeration, DetectModerationLabels
    assert walk["per_image_upsert"] == 7 + 5
    normalized = min((p for p in walk["paths"] if p["via"] == "upsert" and "Normalize" in p["tasks"]),
                     key=lambda p: p["transitions"])
    assert normalized["states"] == ["RouteEvent", "CheckObject", "LocateDerivative", "Normalize",
                                    "AnalyzeOnDerivative", "BuildUpsertRecord", "PutRecord", "Tagged"]
    assert walk["per_image_normalized_upsert"] == 8 + 5


def test_a_switched_off_analysis_enters_its_choice_and_a_pass_instead_of_the_call():
    asl = cost_model.load_asl()
    text, moderation = asl["States"]["Analyze"]["Branches"][1:]
    assert cost_model.branch_transitions(text, ("labels", "text")) == 2  # CheckDetectText, DetectText
    assert cost_model.branch_transitions(text, ("labels",)) == 2  # CheckDetectText, SkipDetectText
    assert cost_model.branch_transitions(moderation, ("labels",)) == 2
    assert set(cost_model.transitions(asl)["per_image_upsert_by_analyses"].values()) == {12}


def test_each_analysis_adds_its_rekognition_call_to_the_cost_of_1000_images():
    settings = cost_model.read_template(fake_template())
    costs = {scenario: cost_model.cost_per_1000(12, settings, analyses)
             for scenario, analyses in cost_model.SCENARIOS.items()}
    p = {name: figure.value for name, figure in cost_model.PRICES.items()}
    assert costs["labels only"]["rekognition"] == pytest.approx(1000 * p["rekognition_detect_labels_per_image"])
    assert costs["all three"]["rekognition"] == pytest.approx(1000 * (
        p["rekognition_detect_labels_per_image"] + p["rekognition_detect_text_per_image"]
        + p["rekognition_detect_moderation_labels_per_image"]))
    assert costs["labels only"]["total_standard"] < costs["labels + text"]["total_standard"] < \
        costs["all three"]["total_standard"]
    assert len({c["step_functions_standard"] for c in costs.values()}) == 1


def test_every_path_ends_in_a_terminal_state_and_dead_letters_pass_the_queue():
    asl = cost_model.load_asl()
    walk = cost_model.transitions(asl)
    for path in walk["paths"]:
        last = asl["States"][path["states"][-1]]["Type"]
        assert last in ("Succeed", "Fail")
        if path["kind"] == "dead letter":
            assert path["states"][-3:] == ["BuildDeadLetter", "SendToDeadLetterQueue", "Failed"]
    delete = next(p for p in walk["paths"] if p["via"] == "delete")
    assert delete["transitions"] == 6  # with DeleteDerivative
    vias = {p["via"] for p in walk["paths"] if p["kind"] == "dead letter"}
    assert {"Analyze", "Normalize", "AnalyzeOnDerivative", "DeleteDerivative", "PutRecord",
            "RejectEmptyObject", "RejectUnsupportedEvent"} <= vias
    # the longest: refused original, Normalize, refused derivative, both Parallel states counted in full
    assert walk["dead_letter_range"] == [5, 22]


def test_catch_and_choice_edges_are_followed_and_retries_are_not():
    state = {"Type": "Task", "Next": "B", "Retry": [{"ErrorEquals": ["States.ALL"]}],
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]}
    assert [t for _, t in cost_model.successors(state)] == ["B", "C"]
    choice = {"Type": "Choice", "Choices": [{"Next": "X"}, {"Next": "X"}, {"Next": "Y"}], "Default": "Z"}
    assert [t for _, t in cost_model.successors(choice)] == ["X", "Y", "Z"]


def test_a_cycle_is_refused():
    asl = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}
    with pytest.raises(ValueError):
        cost_model.walk_paths(asl)


def fake_template(stream_mode="ON_DEMAND", shards=None, machine_type="STANDARD", reserved=None):
    stream = {"RetentionPeriodHours": 24, "StreamModeDetails": {"StreamMode": stream_mode}}
    if shards:
        stream["ShardCount"] = shards
    function = {"MemorySize": 512, "Timeout": 60, "Architectures": ["arm64"]}
    if reserved:
        function["ReservedConcurrentExecutions"] = reserved
    return {"Resources": {
        "TagStream1": {"Type": "AWS::Kinesis::Stream", "Properties": stream},
        "IndexerFunction1": {"Type": "AWS::Lambda::Function", "Properties": function},
        "OtherFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 300}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {"BatchSize": 100, "ParallelizationFactor": 2, "MaximumBatchingWindowInSeconds": 5,
                                   "FunctionName": {"Ref": "IndexerFunction1"}}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {"StateMachineType": machine_type, "LoggingConfiguration": {"Level": "ALL"}}},
        "Plan": {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {"Throttle": {"BurstLimit": 20, "RateLimit": 10}}},
        "Rule": {"Type": "AWS::Events::Rule",
                 "Properties": {"Targets": [{"RetryPolicy": {"MaximumRetryAttempts": 8}}]}},
    }}


def test_template_reading_finds_stream_mode_and_the_indexer_settings():
    settings = cost_model.read_template(fake_template())
    assert settings["stream_mode"] == "ON_DEMAND"
    assert settings["indexer_batch_size"] == 100
    assert settings["indexer_parallelization_factor"] == 2
    assert settings["indexer_memory_mb"] == 512  # the mapped function's, not the other one's
    assert settings["indexer_architecture"] == "arm64"
    assert settings["state_machine_type"] == "STANDARD"
    assert settings["api_rate_limit"] == 10


def test_ceilings_follow_the_template():
    provisioned = cost_model.read_template(fake_template("PROVISIONED", shards=2, reserved=3))
    limits = cost_model.ceilings(provisioned, per_image=6)
    assert limits["kinesis_writes"] == 2 * cost_model.QUOTAS["kinesis_shard_records_per_second"].value
    assert limits["indexer"] == 3 * 100 / cost_model.ASSUMPTIONS["indexer_batch_seconds"]  # reserved caps 2x2
    assert limits["step_functions_state_transitions"] == pytest.approx(
        cost_model.QUOTAS["sfn_standard_state_transitions_refill"].value / 6)
    express = cost_model.ceilings(cost_model.read_template(fake_template(machine_type="EXPRESS")), per_image=6)
    assert "step_functions_state_transitions" not in express


def test_cost_per_1000_images_is_transitions_times_price():
    settings = cost_model.read_template(fake_template())
    cost = cost_model.cost_per_1000(6, settings)
    per_transition = cost_model.PRICES["sfn_standard_per_transition"].value
    assert cost["step_functions_standard"] == pytest.approx(1000 * 6 * per_transition)
    assert cost["step_functions_express"] < cost["step_functions_standard"]


def test_every_price_and_quota_names_its_source():
    for figure in [*cost_model.PRICES.values(), *cost_model.QUOTAS.values()]:
        assert figure.source.startswith("https://") and figure.unit


def test_burst_retries_are_read_from_the_asls_throttling_retry():
    retrier = cost_model.throttling_retrier()
    assert "Rekognition.ThrottlingException" in retrier["ErrorEquals"]
    caps = cost_model.retry_caps(retrier)
    assert len(caps) == retrier["MaxAttempts"] and max(caps) == retrier["MaxDelaySeconds"]
    burst = cost_model.burst_retries(retrier)
    assert burst["longest_retrying_seconds"] == round(sum(caps))
    assert burst["burst"]["drain_seconds"] == 10 * 300  # 10 x Q for 300 s, served at Q a second
    # every image waits less than its retries can last: none runs out (the Retry rides out the burst)
    assert burst["expected_retrying_seconds"] > burst["burst"]["drain_seconds"]
    assert burst["images_out_of_retries_per_1000"] == 0
    per_transition = cost_model.PRICES["sfn_standard_per_transition"].value
    assert burst["extra_cost_per_1000_images_usd"] == pytest.approx(
        burst["extra_transitions_per_1000_images"] * per_transition, rel=1e-3)


def test_a_short_retry_budget_runs_out_in_the_same_burst():
    short = {"ErrorEquals": ["Rekognition.ThrottlingException"], "IntervalSeconds": 1, "BackoffRate": 2.0,
             "MaxDelaySeconds": 30, "MaxAttempts": 6}
    assert cost_model.burst_retries(short)["images_out_of_retries_per_1000"] > 900


def test_a_region_dependent_rate_is_read_for_the_models_region():
    template = fake_template()
    template["Conditions"] = {"RegionIsUseast1": {"Fn::Or": [
        {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}, {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]}}
    template["Resources"]["Plan"]["Properties"]["Throttle"] = {
        "RateLimit": {"Fn::If": ["RegionIsUseast1", 50, 5]}, "BurstLimit": {"Fn::If": ["RegionIsUseast1", 100, 10]}}
    settings = cost_model.read_template(template)
    assert (settings["api_rate_limit"], settings["api_burst_limit"]) == (50, 100)
    assert cost_model.in_region({"Fn::If": ["RegionIsUseast1", 50, 5]}, template, "ap-south-1") == 5


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10.0], 95) == 10.0
    assert percentile(range(101), 95) == 95


def test_backfill_transitions_are_read_from_the_backfill_file():
    backfill = cost_model.backfill_transitions()
    # NameExecution, TagObject, ObjectTagged; TagBatch, CheckBatch, BatchTagged
    assert backfill == {"per_object": 3, "per_batch": 3}


def test_backfill_cost_per_million_compares_child_standard_with_inline_express():
    cost = cost_model.backfill_cost_per_million(6, 10, {"per_object": 5, "per_batch": 3})
    per_transition = cost_model.PRICES["sfn_standard_per_transition"].value
    assert cost["child_standard"]["transitions"] == 1_000_000 * 11 + 100_000 * 3
    assert cost["child_standard"]["step_functions_usd"] == pytest.approx(11_300_000 * per_transition, abs=0.01)
    assert cost["inline_express"]["executions"] == 100_000
    assert cost["inline_express"]["step_functions_usd"] < cost["child_standard"]["step_functions_usd"]
    rekognition = cost["rekognition_detect_labels_usd"]
    assert cost["child_standard"]["total_with_rekognition_usd"] == pytest.approx(
        rekognition + cost["child_standard"]["step_functions_usd"])


def test_normalising_1000_images_costs_their_invocations_at_the_deployed_memory_plus_one_transition_each():
    template = fake_template()
    template["Resources"]["NormalizerFunction1"] = {"Type": "AWS::Lambda::Function",
                                                   "Properties": {"MemorySize": 1024}}
    settings = cost_model.read_template(template)
    cost = cost_model.normalize_cost_per_1000(cost_model.transitions(), settings)
    p = {name: figure.value for name, figure in cost_model.PRICES.items()}
    seconds = cost_model.ASSUMPTIONS["normalize_seconds"]
    assert cost["lambda"] == pytest.approx(1000 * (p["lambda_per_request"] + seconds * p["lambda_arm64_per_gb_second"]),
                                           abs=1e-6)
    assert cost["extra_transitions_each"] == 1  # LocateDerivative and Normalize instead of AnalyzeOriginal
    parts = cost["lambda"] + cost["step_functions_standard"] + cost["s3_requests"]
    assert cost["total"] == pytest.approx(parts, abs=1e-6)
