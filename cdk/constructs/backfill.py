"""The backfill: statemachine/backfill.asl.json (a Distributed Map) deployed as-is, with its results
bucket and a hand-written, least-privilege role.

The definition is the file the local engine runs (`autotagger reprocess`); only its `${...}`
placeholders are filled here. Each item runs the tagging state machine as a child execution
(`startExecution.sync:2`), so dead letters, retries and records are exactly an upload's.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from autotagger import contracts
from cdk import quota
from cdk.config import DeploymentConfig
from cdk.nag import XRAY_AND_LOGS, Ack, acknowledge
from cdk.removal import log_group, removal_policy

RESULTS_RETENTION_DAYS = 90
"""Map Run results (manifest and per-status files) are for looking into a run; kept 90 days."""

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# Step Functions creates and reads this rule in the account to learn that a child execution started
# with .sync ended (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html).
SYNC_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"


class Backfill(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, bucket: s3.IBucket,
                 access_logs: s3.IBucket, tagging: sfn.StateMachine) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.results = s3.Bucket(
            self, "Results",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy(config),
            auto_delete_objects=config.destroy_on_removal,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="backfill-results/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(RESULTS_RETENTION_DAYS))],
        )
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
            description="The backfill: lists the image bucket, runs the tagging workflow per object, writes results.",
        )
        # ItemReader listObjectsV2: s3:ListBucket on the bucket, only under the tagged prefix
        # (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html, IAM policies).
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{config.key_prefix}*"]}} if config.key_prefix else None))
        # startExecution.sync:2 on the tagging workflow: start it, follow and stop its executions, and
        # the Step Functions-managed rule that reports their end
        # (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html, "Synchronous").
        self.role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"],
                                                    resources=[tagging.state_machine_arn]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[_executions_of(stack, tagging.state_machine_name)]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule", resource_name=SYNC_RULE)]))
        # ResultWriter: what CDK's own ResultWriter.providePolicyStatements grants, on the results prefix
        # (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html, IAM policies).
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
            resources=[self.results.arn_for_objects(f"{contracts.BACKFILL_RESULTS_PREFIX}/*")]))

        self.log_group = log_group(self, "Logs", config=config, retention=LOG_RETENTION)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            comment="Re-tags every object under a prefix (statemachine/backfill.asl.json).",
            definition_body=sfn.DefinitionBody.from_file(str(contracts.BACKFILL_ASL_FILE)),
            definition_substitutions=contracts.backfill_substitutions(
                bucket=bucket.bucket_name, tagging_state_machine_arn=tagging.state_machine_arn,
                results_bucket=self.results.bucket_name, region=stack.region, account=stack.account,
                # The DetectLabels rate the stack is configured for (the upload API's rate, too).
                max_concurrency=quota.backfill_max_concurrency(self, config)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            role=self.role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ERROR, include_execution_data=False),
        )
        acknowledge(self.state_machine, Ack(
            "SF1", "Errors only: a backfill of a million objects runs a hundred thousand batch executions; their "
                   "every event at level ALL would cost more in CloudWatch Logs than the run. Each object's tagging "
                   "execution logs ALL in the tagging workflow's own log group, and the Map Run (items by status, "
                   "failed executions) is in the console and in the results bucket."))
        # A Distributed Map starts its child workflow executions as executions of this very state
        # machine (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html).
        # Its ARN depends on the role, so this grant is a policy of its own, attached after.
        children = iam.Policy(self, "ChildExecutions", statements=[
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.state_machine.state_machine_arn]),
            iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"],
                                resources=[_executions_of(stack, self.state_machine.state_machine_name, "/")]),
        ])
        children.attach_to_role(self.role)
        acknowledge(
            self.role,
            Ack(f"IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"<{stack.get_logical_id(tagging.node.default_child)}.Name>:*]",
                ".sync:2 follows and, when the backfill is stopped, stops the tagging executions it started; "
                "their names are only known at run time (one per object)."),
            Ack(f"IAM5[Resource::<{stack.get_logical_id(self.results.node.default_child)}.Arn>/"
                f"{contracts.BACKFILL_RESULTS_PREFIX}/*]",
                "The ResultWriter writes one folder per Map Run (named by its id) under the results prefix."),
            XRAY_AND_LOGS,
        )
        acknowledge(
            children,
            Ack(f"IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"<{stack.get_logical_id(self.state_machine.node.default_child)}.Name>/*]",
                "The Distributed Map's child workflow executions are named by Step Functions at run time."),
        )

    def console_url(self) -> str:
        stack = Stack.of(self)
        return (f"https://{stack.region}.console.aws.amazon.com/states/home?region={stack.region}"
                f"#/statemachines/view/{self.state_machine.state_machine_arn}")


def _executions_of(stack: Stack, state_machine_name: str, separator: str = ":") -> str:
    """The executions of a state machine (`execution:<name>:*`), or with separator "/" the child
    workflow executions of its Map Runs (`execution:<name>/<label>:<id>`)."""
    return stack.format_arn(service="states", resource="execution", resource_name=f"{state_machine_name}{separator}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME)
