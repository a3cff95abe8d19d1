"""The indexer Lambda (`functions/indexer/`) and its Kinesis event source.

The event source is tuned for at-least-once delivery without poison batches: bad records are
isolated by bisecting the batch and reported one by one (ReportBatchItemFailures, which the
handler implements), retries and record age are bounded so one bad record cannot stall its
shard, and what still fails is described in the on-failure queue (the records stay in the
stream for its retention period and can be re-read from the sequence numbers given there).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from autotagger import contracts
from cdk.config import DeploymentConfig
from cdk.constructs.network import PRIVATE_SUBNETS, Network
from cdk.lambda_bundle import INDEXER_DIR, python_function
from cdk.nag import LAMBDA_VPC, XRAY_AND_LOGS, acknowledge
from cdk.removal import log_group

SERVICE_NAME = "indexer"
METRICS_NAMESPACE = "autotagger"
MEMORY_MB = 512
TIMEOUT = Duration.seconds(60)
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

MAX_BATCHING_WINDOW = Duration.seconds(5)
MAX_RECORD_AGE = Duration.hours(6)
PARALLELIZATION_FACTOR = 2
"""Two concurrent batches per shard; order per object still holds (same partition key, same batch
sequence) because the handler's writes are conditional on the S3 sequencer anyway."""


def indexer_role(scope: Construct) -> iam.Role:
    """Created before the function because the OpenSearch role mapping needs its ARN."""
    role = iam.Role(
        scope, "IndexerRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="The indexer Lambda: reads the tag stream, writes the image index",
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole"),
        ],
    )
    acknowledge(role, LAMBDA_VPC)
    return role


class Indexer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        role: iam.Role,
        network: Network,
        stream: kinesis.IStream,
        failures: sqs.IQueue,
        opensearch_endpoint: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(self, "Logs", config=config, retention=LOG_RETENTION)
        self.function = python_function(
            self, "Function",
            function_dir=INDEXER_DIR,
            description="Indexes tagged images from Kinesis into OpenSearch",
            role=role,
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            log_group=self.log_group,
            vpc=network.vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            allow_all_outbound=False,
            environment={
                # AWS_REGION is set by the Lambda runtime itself (and reserved).
                contracts.OPENSEARCH_ENDPOINT_ENV: opensearch_endpoint,
                contracts.INDEX_NAME_ENV: contracts.INDEX_NAME,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
        )
        # The function is traced: CDK grants the X-Ray actions on its role.
        acknowledge(role, XRAY_AND_LOGS)
        self.event_source = sources.KinesisEventSource(
            stream,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=contracts.INDEXER_BATCH_SIZE,
            max_batching_window=MAX_BATCHING_WINDOW,
            bisect_batch_on_error=True,
            retry_attempts=contracts.INDEXER_RETRY_ATTEMPTS,
            max_record_age=MAX_RECORD_AGE,
            report_batch_item_failures=True,
            parallelization_factor=PARALLELIZATION_FACTOR,
            on_failure=sources.SqsDlq(failures),
        )
        self.function.add_event_source(self.event_source)

    @property
    def connections(self) -> ec2.Connections:
        return self.function.connections
