"""The tagging workflow: the ASL file deployed as-is, and the EventBridge rule that starts it.

The state machine is not rebuilt from CDK constructs: `statemachine/image_tagging.asl.json` is
the single source of truth, also run by the local engine, and only its `${...}` placeholders
are filled in here (DefinitionSubstitutions). Because CDK cannot see what a file-based definition
calls, the role is written by hand: exactly the integrations the file uses.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from autotagger import contracts
from cdk.config import DeploymentConfig
from cdk.nag import Ack, acknowledge, objects_finding
from cdk.removal import log_group

RULE_RETRY_ATTEMPTS = 8
RULE_MAX_EVENT_AGE = Duration.hours(6)
"""EventBridge retries StartExecution (throttling, outages) this long, then dead-letters the event."""

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


def definition_substitutions(
    config: DeploymentConfig, stream: kinesis.IStream, dead_letters: sqs.IQueue, normalize: lambda_.IFunction
) -> dict[str, str]:
    """Values for the ASL placeholders: the configured DetectLabels parameters, the stream, the queue,
    the Normalize function, and whether the optional analyses (text, moderation) run."""
    return contracts.definition_substitutions(
        max_labels=config.max_labels, min_confidence=config.min_confidence,
        stream_name=stream.stream_name, dead_letter_queue_url=dead_letters.queue_url,
        normalize_function=normalize.function_arn,
        detect_text=config.detect_text, detect_moderation=config.detect_moderation,
    )


REKOGNITION_ACTIONS = {"labels": "rekognition:DetectLabels", "text": "rekognition:DetectText",
                       "moderation": "rekognition:DetectModerationLabels"}
"""The IAM action of each analysis (contracts.ANALYSES)."""

METRICS_NAMESPACE = "autotagger"
ANALYSIS_ERRORS_METRIC = "AnalysisErrors"
"""The metric the workflow's log group counts analysis errors in (the Alarms construct alarms on it)."""


def rekognition_actions(config: DeploymentConfig) -> list[str]:
    """The Rekognition actions the workflow calls with this configuration: DetectLabels always, the
    optional analyses only when they are switched on."""
    enabled = {"labels": True, "text": config.detect_text, "moderation": config.detect_moderation}
    return [REKOGNITION_ACTIONS[analysis] for analysis in contracts.ANALYSES if enabled[analysis]]


def analysis_error_states(definition: dict) -> list[str]:
    """The states that record an optional analysis's failure in analysis_errors: the Catch targets of
    the Tasks calling DetectText and DetectModerationLabels, on the original and on the derivative,
    read from the workflow file itself (it is the one place that names them)."""
    optional = {"arn:aws:states:::aws-sdk:rekognition:detectText",
                "arn:aws:states:::aws-sdk:rekognition:detectModerationLabels"}
    found: list[str] = []

    def walk(states: dict) -> None:
        for state in states.values():
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if state.get("Type") == "Task" and state.get("Resource") in optional:
                found.extend(catcher["Next"] for catcher in state.get("Catch", []))

    walk(definition["States"])
    return sorted(found)


_EVENT, _ARRIVAL = "<<event>>", "<<arrival>>"


def unsupported_object_template() -> str:
    """The input template of the unsupported-objects rule: contracts' dead letter with EventBridge's
    whole-event and arrival-time variables in place of the event and the time."""
    letter = json.dumps(contracts.unsupported_object_dead_letter(_EVENT, _ARRIVAL))
    return letter.replace(json.dumps(_EVENT), "<aws.events.event.json>").replace(
        _ARRIVAL, "<aws.events.event.ingestion-time>")


class TaggingWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        bucket: s3.IBucket,
        stream: kinesis.IStream,
        dead_letters: sqs.IQueue,
        rule_dead_letters: sqs.IQueue,
        normalize: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(self, "Logs", config=config, retention=LOG_RETENTION)
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="The tagging workflow: Rekognition on the image bucket, one stream, one queue.",
        )
        # DetectLabels, DetectText and DetectModerationLabels have no resource-level permissions: "*" is
        # the only resource they accept. An optional analysis switched off is not granted at all.
        self.role.add_to_policy(iam.PolicyStatement(actions=rekognition_actions(config), resources=["*"]))
        # Rekognition reads the image from S3 with the caller's (this role's) permissions.
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{config.key_prefix}*")]
        ))
        self.role.add_to_policy(iam.PolicyStatement(actions=["kinesis:PutRecord"], resources=[stream.stream_arn]))
        self.role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[dead_letters.queue_arn]))
        # The Normalize task (lambda:invoke) and the delete path's s3:deleteObject of the derivative.
        self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                    resources=[normalize.function_arn]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:DeleteObject"], resources=[bucket.arn_for_objects(f"{contracts.DERIVATIVES_PREFIX}*")]))
        if stream.encryption_key is not None:
            stream.encryption_key.grant_encrypt(self.role)
        acknowledge(
            self.role,
            Ack(objects_finding(bucket, config.key_prefix),
                "Rekognition reads whichever object the event names, with the workflow's permissions: "
                "s3:GetObject on the image bucket's objects only."),
            Ack(objects_finding(bucket, contracts.DERIVATIVES_PREFIX),
                "Deleting an original deletes its derivative (named by a hash of the original key): "
                "s3:DeleteObject under the derivatives prefix only."),
            Ack("IAM5[Resource::*]",
                "rekognition:DetectLabels, DetectText and DetectModerationLabels have no resource-level "
                "permissions (Service Authorization Reference), and the X-Ray and CloudWatch Logs delivery "
                "actions of a traced, logged state machine take no resource ARN either."),
        )

        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            comment="Tags one S3 object (statemachine/image_tagging.asl.json).",
            definition_body=sfn.DefinitionBody.from_file(str(contracts.ASL_FILE)),
            definition_substitutions=definition_substitutions(config, stream, dead_letters, normalize),
            state_machine_type=(
                sfn.StateMachineType.EXPRESS if config.express_workflow else sfn.StateMachineType.STANDARD
            ),
            role=self.role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )

        self.analysis_errors = self._analysis_error_metric()

        pattern = contracts.tagging_rule_pattern(bucket.bucket_name, config.key_prefix)
        self.rule = events.Rule(
            self, "ObjectEvents",
            description="S3 Object Created/Deleted in the image bucket start the tagging workflow.",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    dead_letter_queue=rule_dead_letters,
                    retry_attempts=RULE_RETRY_ATTEMPTS,
                    max_event_age=RULE_MAX_EVENT_AGE,
                )
            ],
        )

        self.unsupported_rule = self._unsupported_objects(bucket, dead_letters, rule_dead_letters)

    def _analysis_error_metric(self) -> cloudwatch.Metric:
        """Counts the optional analyses (text, moderation) that failed and were recorded in a record's
        analysis_errors: one log event per entry into a recording state (`analysis_error_states`),
        which the state machine's log group holds at log level ALL (set above). A metric filter
        keeps this in the stack, with no code in the workflow's path; CloudWatch Logs delivery is
        best effort (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html), which an
        alarm "more than none" tolerates. The log events carry the history event's `type` and, in
        `details.name`, the state's name."""
        names = analysis_error_states(json.loads(contracts.ASL_FILE.read_text(encoding="utf-8")))
        pattern = logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.type", "=", "PassStateEntered"),
            logs.FilterPattern.any(*(logs.FilterPattern.string_value("$.details.name", "=", name) for name in names)),
        )
        metric_filter = self.log_group.add_metric_filter(
            "AnalysisErrors", filter_pattern=pattern, metric_namespace=METRICS_NAMESPACE,
            metric_name=ANALYSIS_ERRORS_METRIC, metric_value="1", default_value=0,
        )
        return metric_filter.metric(statistic="Sum")

    def _unsupported_objects(self, bucket: s3.IBucket, dead_letters: sqs.IQueue,
                             rule_dead_letters: sqs.IQueue) -> events.Rule:
        """Objects that are neither images by extension nor folders start no execution; this rule
        puts their dead letter (the workflow's shape, `contracts.unsupported_object_dead_letter`)
        straight on the workflow's queue, so every accepted upload still ends indexed or as a dead
        letter with the reason. The input transformer's `aws.events.event.json` is the whole event
        and `aws.events.event.ingestion-time` its arrival
        (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html)."""
        pattern = contracts.unsupported_object_rule_pattern(bucket.bucket_name)
        rule = events.Rule(
            self, "UnsupportedObjects",
            description="S3 objects that are not images by extension: a dead letter, no execution.",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            targets=[targets.SqsQueue(
                dead_letters,
                dead_letter_queue=rule_dead_letters,
                retry_attempts=RULE_RETRY_ATTEMPTS,
                max_event_age=RULE_MAX_EVENT_AGE,
            )],
        )
        cfn_rule = rule.node.default_child
        cfn_rule.add_property_override("Targets.0.InputTransformer", {
            "InputPathsMap": {},
            "InputTemplate": unsupported_object_template(),
        })
        return rule

    def console_url(self) -> str:
        stack = Stack.of(self)
        return (
            f"https://{stack.region}.console.aws.amazon.com/states/home?region={stack.region}"
            f"#/statemachines/view/{self.state_machine.state_machine_arn}"
        )
