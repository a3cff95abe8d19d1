"""The EventBridge rule, the state machine deployed from the ASL file, and the Kinesis stream."""

from __future__ import annotations

import json
import re

from autotagger import contracts
from cdk.constructs import workflow


def _state_machine(synth) -> dict:
    return synth.resource(synth.stack.workflow.state_machine)["Properties"]


def _rule(synth) -> dict:
    return synth.resource(synth.stack.workflow.rule)["Properties"]


def test_given_the_rule_when_synthesized_then_it_matches_created_and_deleted_objects_of_the_image_bucket(dev):
    assert _rule(dev)["EventPattern"] == {
        "source": [contracts.S3_EVENT_SOURCE],
        "detail-type": list(contracts.TAGGING_DETAIL_TYPES),
        "detail": {"bucket": {"name": [dev.ref(dev.stack.storage.bucket)]},
                   "object": {"key": [*contracts.image_key_filter(), {"exists": False}]}},
    }


def test_given_a_key_prefix_when_synthesized_then_the_rule_matches_only_keys_under_it(variant):
    detail = _rule(variant)["EventPattern"]["detail"]
    assert detail["object"] == {"key": [*contracts.image_key_filter(variant.stack.config.key_prefix), {"exists": False}]}
    # every key the rule admits is under the prefix (a keyless event goes to the workflow's input check)
    assert all(m["wildcard"].startswith(variant.stack.config.key_prefix) for m in detail["object"]["key"] if "wildcard" in m)


def test_given_the_rule_when_synthesized_then_it_starts_the_state_machine(dev):
    target = _rule(dev)["Targets"][0]
    assert target["Arn"] == dev.ref(dev.stack.workflow.state_machine)


def test_given_the_rule_target_when_delivery_fails_then_it_is_retried_with_bounds(dev):
    assert _rule(dev)["Targets"][0]["RetryPolicy"] == {
        "MaximumRetryAttempts": workflow.RULE_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": workflow.RULE_MAX_EVENT_AGE.to_seconds(),
    }


def test_given_the_rule_target_when_retries_are_exhausted_then_the_event_goes_to_the_rule_dead_letter_queue(dev):
    target = _rule(dev)["Targets"][0]
    assert target["DeadLetterConfig"] == {"Arn": dev.arn(dev.stack.dead_letters.rule)}


def test_given_the_asl_file_when_deployed_then_the_definition_is_the_file_unchanged(dev):
    key = _state_machine(dev)["DefinitionS3Location"]["Key"]
    deployed = dev.outdir / f"asset.{key}"
    assert deployed.read_bytes() == contracts.ASL_FILE.read_bytes()


def test_given_the_asl_placeholders_when_deployed_then_each_has_exactly_one_substitution(dev):
    placeholders = set(re.findall(r"\$\{(\w+)\}", contracts.ASL_FILE.read_text(encoding="utf-8")))
    assert set(_state_machine(dev)["DefinitionSubstitutions"]) == placeholders


def test_given_the_substitutions_when_deployed_then_they_name_the_stream_and_the_workflow_dead_letter_queue(dev):
    substitutions = _state_machine(dev)["DefinitionSubstitutions"]
    assert (substitutions["StreamName"], substitutions["DeadLetterQueueUrl"]) == (
        dev.ref(dev.stack.stream.stream), dev.ref(dev.stack.dead_letters.workflow))


def test_given_the_substitutions_when_deployed_then_detect_labels_gets_the_configured_json_numbers(dev):
    substitutions = _state_machine(dev)["DefinitionSubstitutions"]
    config = dev.stack.config
    assert (json.loads(substitutions["MaxLabels"]), json.loads(substitutions["MinConfidence"])) == (
        config.max_labels, config.min_confidence)


def test_given_default_context_when_synthesized_then_the_workflow_is_standard(dev):
    assert _state_machine(dev)["StateMachineType"] == "STANDARD"


def test_given_express_workflow_when_synthesized_then_the_workflow_is_express(variant):
    assert _state_machine(variant)["StateMachineType"] == "EXPRESS"


def test_given_the_state_machine_when_synthesized_then_xray_tracing_is_on(dev):
    assert _state_machine(dev)["TracingConfiguration"] == {"Enabled": True}


def test_given_the_state_machine_when_synthesized_then_it_logs_everything_with_execution_data(dev):
    logging = _state_machine(dev)["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"], logging["Destinations"]) == (
        "ALL", True, [{"CloudWatchLogsLogGroup": {"LogGroupArn": dev.arn(dev.stack.workflow.log_group)}}])


def _grant(synth, action: str) -> list:
    return [s["Resource"] for s in synth.role_statements(synth.stack.workflow.role)
            if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]


def test_given_the_workflow_role_when_synthesized_then_it_reads_only_objects_of_the_image_bucket(dev):
    assert _grant(dev, "s3:GetObject") == [{"Fn::Join": ["", [dev.arn(dev.stack.storage.bucket), "/*"]]}]


def test_given_the_workflow_role_when_synthesized_then_it_writes_only_to_the_tag_stream(dev):
    assert _grant(dev, "kinesis:PutRecord") == [dev.arn(dev.stack.stream.stream)]


def test_given_the_workflow_role_when_synthesized_then_it_sends_only_to_the_workflow_dead_letter_queue(dev):
    assert _grant(dev, "sqs:SendMessage") == [dev.arn(dev.stack.dead_letters.workflow)]


def test_given_the_workflow_role_when_synthesized_then_it_may_call_the_three_analyses(dev):
    for action in ("rekognition:DetectLabels", "rekognition:DetectText", "rekognition:DetectModerationLabels"):
        assert _grant(dev, action) == ["*"], action
    assert {a for a in dev.role_actions(dev.stack.workflow.role) if a.startswith("rekognition:")} == {
        "rekognition:DetectLabels", "rekognition:DetectText", "rekognition:DetectModerationLabels"}


def test_given_default_context_when_synthesized_then_both_optional_analyses_are_switched_on(dev):
    substitutions = _state_machine(dev)["DefinitionSubstitutions"]
    assert {name: json.loads(substitutions[name]) for name in contracts.ANALYSIS_SUBSTITUTIONS.values()} == {
        "DetectTextEnabled": True, "DetectModerationEnabled": True}


def test_given_detect_text_switched_off_when_synthesized_then_the_workflow_skips_it_and_may_not_call_it(variant):
    substitutions = _state_machine(variant)["DefinitionSubstitutions"]
    assert (json.loads(substitutions["DetectTextEnabled"]), json.loads(substitutions["DetectModerationEnabled"])) == (
        False, True)
    assert _grant(variant, "rekognition:DetectText") == []
    assert _grant(variant, "rekognition:DetectModerationLabels") == ["*"]


def test_given_the_log_group_when_synthesized_then_a_metric_filter_counts_every_recorded_analysis_error(dev):
    [metric_filter] = dev.resources("AWS::Logs::MetricFilter").values()
    props = metric_filter["Properties"]
    assert props["LogGroupName"] == dev.ref(dev.stack.workflow.log_group)
    assert props["MetricTransformations"] == [{"MetricNamespace": workflow.METRICS_NAMESPACE, "MetricName":
                                               workflow.ANALYSIS_ERRORS_METRIC, "MetricValue": "1", "DefaultValue": 0}]
    names = workflow.analysis_error_states(json.loads(contracts.ASL_FILE.read_text(encoding="utf-8")))
    # two optional analyses, each on the original and on the derivative
    assert len(names) == 2 * len(contracts.OPTIONAL_ANALYSES)
    expected = " || ".join(f'($.details.name = "{name}")' for name in names)
    assert props["FilterPattern"] == f'{{ ($.type = "PassStateEntered") && ({expected}) }}'


def test_given_the_asl_file_when_read_then_the_recording_states_are_the_catch_targets_of_text_and_moderation():
    states = json.loads(contracts.ASL_FILE.read_text(encoding="utf-8"))["States"]
    branches = {name: state for analyze in ("Analyze", "AnalyzeOnDerivative")
                for branch in states[analyze]["Branches"] for name, state in branch["States"].items()}
    names = workflow.analysis_error_states({"States": states})
    for name in names:
        assert branches[name]["Type"] == "Pass" and branches[name]["Parameters"]["error"]["analysis"] in (
            contracts.OPTIONAL_ANALYSES)


def test_given_the_workflow_role_when_synthesized_then_it_has_no_other_service_actions(dev):
    services = {a.split(":")[0] for a in dev.role_actions(dev.stack.workflow.role)}
    assert services == {"rekognition", "s3", "kinesis", "sqs", "xray", "logs", "lambda"}  # lambda: Normalize


def test_given_default_context_when_synthesized_then_the_stream_is_on_demand(dev):
    stream = dev.resource(dev.stack.stream.stream)["Properties"]
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_given_provisioned_mode_when_synthesized_then_the_stream_has_the_configured_shards(variant):
    stream = variant.resource(variant.stack.stream.stream)["Properties"]
    assert (stream["StreamModeDetails"], stream["ShardCount"]) == (
        {"StreamMode": "PROVISIONED"}, variant.stack.config.stream_shards)


def test_given_the_stream_when_synthesized_then_it_is_encrypted_with_kms(dev):
    encryption = dev.resource(dev.stack.stream.stream)["Properties"]["StreamEncryption"]
    assert (encryption["EncryptionType"], encryption["KeyId"]) == ("KMS", "alias/aws/kinesis")
