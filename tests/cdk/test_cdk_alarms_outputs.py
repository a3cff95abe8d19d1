"""Alarms to the SNS topic, and the outputs a user needs after `cdk deploy`."""

from __future__ import annotations

from cdk.constructs import alarms as alarms_module
from cdk.constructs import workflow as workflow_module


def _alarm(synth, name: str) -> dict:
    return synth.resource(synth.stack.alarms.alarms[name])["Properties"]


def _alarms_on(synth, metric: str) -> list[dict]:
    return [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("MetricName") == metric]


def test_given_each_dead_letter_queue_when_a_message_arrives_then_an_alarm_fires(dev):
    watched = [a["Dimensions"][0]["Value"] for a in _alarms_on(dev, "ApproximateNumberOfMessagesVisible")
               if a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"]
    queues = [{"Fn::GetAtt": [dev.logical_id(q), "QueueName"]} for q in dev.stack.dead_letters.all.values()]
    assert sorted(map(str, watched)) == sorted(map(str, queues))


def test_given_the_state_machine_when_an_execution_fails_then_an_alarm_fires(dev):
    alarm = _alarm(dev, "FailedExecutions")
    assert (alarm["MetricName"], alarm["Dimensions"][0]["Value"], alarm["Threshold"]) == (
        "ExecutionsFailed", dev.ref(dev.stack.workflow.state_machine), 0)


def test_given_an_analysis_error_recorded_when_counted_then_an_alarm_fires(dev):
    alarm = _alarm(dev, "AnalysisErrors")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
        workflow_module.METRICS_NAMESPACE, workflow_module.ANALYSIS_ERRORS_METRIC, "Sum", 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_given_the_indexer_when_it_errors_then_an_alarm_fires(dev):
    alarm = _alarm(dev, "IndexerErrors")
    assert (alarm["MetricName"], alarm["Dimensions"][0]["Value"], alarm["Threshold"]) == (
        "Errors", dev.ref(dev.stack.indexer.function), 0)


def test_given_the_indexer_when_it_falls_behind_the_stream_then_the_iterator_age_alarm_fires(dev):
    alarm = _alarm(dev, "IndexerIteratorAge")
    assert (alarm["MetricName"], alarm["Threshold"]) == (
        "IteratorAge", alarms_module.ITERATOR_AGE_THRESHOLD.to_milliseconds())


def test_given_every_alarm_when_it_fires_then_it_notifies_the_alarm_topic(dev):
    topic = dev.ref(dev.stack.alarms.topic)
    actions = [a["Properties"].get("AlarmActions") for a in dev.resources("AWS::CloudWatch::Alarm").values()]
    assert actions == [[topic]] * len(dev.stack.alarms.alarms)


def test_given_the_alarm_topic_when_synthesized_then_it_is_encrypted_with_a_rotated_customer_key(dev):
    topic = dev.resource(dev.stack.alarms.topic)["Properties"]
    key = dev.resource(dev.stack.alarms.key)["Properties"]
    assert (topic["KmsMasterKeyId"], key["EnableKeyRotation"]) == (dev.arn(dev.stack.alarms.key), True)


def test_given_no_alarm_email_when_synthesized_then_nobody_is_subscribed(dev):
    dev.template.resource_count_is("AWS::SNS::Subscription", 0)


def test_given_an_alarm_email_when_synthesized_then_it_is_subscribed_to_the_topic(variant):
    variant.template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": variant.stack.config.alarm_email,
        "TopicArn": variant.ref(variant.stack.alarms.topic),
    })


def test_given_the_stack_when_synthesized_then_it_outputs_what_a_user_needs_next(dev):
    needed = {"UploadApiUrl", "ApiKeyId", "ImageBucketName", "StateMachineArn", "StateMachineConsoleUrl",
              "OpenSearchEndpoint", "DashboardsUrl", "DashboardsSecretArn", "BastionInstanceId", "AlarmTopicArn",
              "WorkflowDeadLetterQueueUrl", "RuleDeadLetterQueueUrl", "IndexerDeadLetterQueueUrl"}
    assert needed <= set(dev.json["Outputs"])


def test_given_the_outputs_when_synthesized_then_the_api_key_id_is_the_usage_plan_key(dev):
    assert dev.json["Outputs"]["ApiKeyId"]["Value"] == dev.ref(dev.stack.upload_api.api_key)
