"""Alarms for every way an image can silently fail to be tagged, to one SNS topic.

An image is lost from the user's point of view when it lands in a dead-letter queue, when its
execution fails, when the indexer errors, or when the indexer falls behind the stream; each has
an alarm. The topic is encrypted with a customer key because CloudWatch alarms cannot publish
to a topic encrypted with the AWS-managed SNS key.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.removal import removal_policy

PERIOD = Duration.minutes(5)
ITERATOR_AGE_THRESHOLD = Duration.minutes(10)
"""Older than this, the index is visibly behind uploads (records wait in Kinesis, not lost)."""

KEY_ADMIN_ACTIONS = (
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
)
"""The account keeps administering the key (the console's key-administrator set) without the
usual `kms:*`: no policy in this project grants all actions of a service."""
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class Alarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "TopicKey",
            description="Encrypts the autotagger alarm topic",
            enable_key_rotation=True,
            # Kept or deleted with the stack like the other stateful resources (CDK keeps keys by default).
            removal_policy=removal_policy(config),
            policy=iam.PolicyDocument(statements=[
                iam.PolicyStatement(
                    sid="AccountAdministersKey",
                    principals=[iam.AccountRootPrincipal()],
                    actions=list(KEY_ADMIN_ACTIONS),
                    resources=["*"],  # in a key policy, "*" is this key
                ),
                # As in AWS's example key policy for alarm topics; SNS uses the key on behalf of the
                # publisher (CloudWatch), so no statement for SNS itself is needed.
                iam.PolicyStatement(
                    sid="CloudWatchPublishesAlarms",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=list(KEY_USE_ACTIONS),
                    resources=["*"],
                ),
            ]),
        )
        self.topic = sns.Topic(
            self, "Topic", display_name="autotagger alarms", master_key=self.key, enforce_ssl=True
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    def _add(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = metric.create_alarm(
            self, name,
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[name] = alarm

    def dead_letters(self, name: str, queue: sqs.IQueue) -> None:
        self._add(
            f"{name}DeadLetters",
            queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            0,
            f"Images in the {name} dead-letter queue: see the message for the reason, then redrive.",
        )

    def failed_executions(self, state_machine: sfn.IStateMachine) -> None:
        self._add(
            "FailedExecutions",
            state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            0,
            "Tagging executions failed: open the execution in the Step Functions console.",
        )

    def indexer(self, function: lambda_.IFunction) -> None:
        self._add(
            "IndexerErrors",
            function.metric_errors(period=PERIOD, statistic="Sum"),
            0,
            "The indexer Lambda raised errors (batches are retried, then sent to its dead-letter queue).",
        )
        self._add(
            "IndexerIteratorAge",
            function.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
            ITERATOR_AGE_THRESHOLD.to_milliseconds(),
            "The indexer is falling behind the tag stream.",
        )

    def analysis_errors(self, metric: cloudwatch.Metric) -> None:
        """Text or moderation analyses that failed: the image is indexed with its labels and the error
        in analysis_errors (shown by the API and the dashboard); re-run it once the cause is fixed."""
        self._add(
            "AnalysisErrors",
            metric.with_(period=PERIOD, statistic="Sum"),
            0,
            "Optional analyses (DetectText, DetectModerationLabels) failed: the images kept their labels and "
            "list the error in analysis_errors; reprocess them once the cause is fixed.",
        )

    def normalizer(self, function: lambda_.IFunction, timeout: Duration) -> None:
        """Not its Errors: a refused original (corrupt, a bomb) is a function error by design and
        already alarms as a workflow dead letter. What needs a person is throttling (the account's
        concurrency is used up) and invocations close to the timeout (too little memory/CPU)."""
        self._add(
            "NormalizerThrottles",
            function.metric_throttles(period=PERIOD, statistic="Sum"),
            0,
            "The Normalize Lambda was throttled (the workflow retries; raise the concurrency if it persists).",
        )
        self._add(
            "NormalizerNearTimeout",
            function.metric_duration(period=PERIOD, statistic="Maximum"),
            timeout.to_milliseconds() * 0.8,
            "A normalisation took over 80% of the function's timeout: give it more memory (and so CPU).",
        )
