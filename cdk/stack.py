"""The whole AWS pipeline in one stack: upload API -> S3 -> EventBridge -> Step Functions ->
Rekognition -> Kinesis -> indexer Lambda -> OpenSearch, plus its alarms.

One stack because every part references the next (bucket name in the API role and the rule,
stream and queue in the workflow, domain endpoint in the Lambda) and they are deployed, updated
and destroyed together; the constructs under `cdk/constructs/` keep the concerns apart.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.constructs.alarms import Alarms
from cdk.constructs.backfill import Backfill
from cdk.constructs.dead_letters import DeadLetterQueues
from cdk.constructs.image_bucket import ImageBucket
from cdk.constructs.indexer import Indexer, indexer_role
from cdk.constructs.network import Network
from cdk.constructs.normalizer import TIMEOUT as NORMALIZE_TIMEOUT
from cdk.constructs.normalizer import Normalizer
from cdk.constructs.read_api import ReadApi
from cdk.constructs.search_domain import SearchDomain
from cdk.constructs.tag_stream import TagStream
from cdk.constructs.upload_api import UploadApi
from cdk.constructs.workflow import TaggingWorkflow
from cdk.nag import acknowledgements

STACK_NAME = "Autotagger"
DASHBOARDS_LOCAL_PORT = 8443


class AutotaggerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.storage = ImageBucket(self, "Storage", config=config)
        self.dead_letters = DeadLetterQueues(self, "DeadLetters", config=config)
        self.stream = TagStream(self, "TagStream", config=config)
        self.upload_api = UploadApi(self, "UploadApi", config=config, bucket=self.storage.bucket)
        self.normalizer = Normalizer(self, "Normalizer", config=config, bucket=self.storage.bucket)
        self.workflow = TaggingWorkflow(
            self, "Workflow",
            config=config,
            bucket=self.storage.bucket,
            stream=self.stream.stream,
            dead_letters=self.dead_letters.workflow,
            rule_dead_letters=self.dead_letters.rule,
            normalize=self.normalizer.function,
        )
        self.backfill = Backfill(self, "Backfill", config=config, bucket=self.storage.bucket,
                                 access_logs=self.storage.access_logs, tagging=self.workflow.state_machine)
        self.network = Network(self, "Network", config=config)
        self.indexer_role = indexer_role(self)
        self.search = SearchDomain(
            self, "Search", config=config, network=self.network, indexer_role=self.indexer_role
        )
        self.indexer = Indexer(
            self, "Indexer",
            config=config,
            role=self.indexer_role,
            network=self.network,
            stream=self.stream.stream,
            failures=self.dead_letters.indexer,
            opensearch_endpoint=self.search.endpoint_url,
        )
        self.search.allow_https_from(self.indexer.function, "indexer Lambda")
        self.read_api = ReadApi(
            self, "ReadApi",
            config=config,
            api=self.upload_api.api,
            network=self.network,
            search=self.search,
            state_machine=self.workflow.state_machine,
            dead_letters=self.dead_letters.all,
            bucket=self.storage.bucket,
        )

        self.alarms = Alarms(self, "Alarms", config=config)
        for name, queue in self.dead_letters.all.items():
            self.alarms.dead_letters(name, queue)
        self.alarms.failed_executions(self.workflow.state_machine)
        self.alarms.analysis_errors(self.workflow.analysis_errors)
        self.alarms.indexer(self.indexer.function)
        self.alarms.normalizer(self.normalizer.function, NORMALIZE_TIMEOUT)

        self._outputs()
        self.acknowledgements = acknowledgements(self)

    def _outputs(self) -> None:
        outputs = {
            "UploadApiUrl": (self.upload_api.url, "PUT <this URL><bucket>/<key> with header x-api-key"),
            "ApiUrl": (self.read_api.base_url, "the /v1 API: curl -H x-api-key <this URL>/images?tag=dog; "
                                               "autotagger dashboard --api <this URL>"),
            "ApiKeyId": (self.upload_api.api_key.key_id,
                         "aws apigateway get-api-key --include-value --api-key <this id>"),
            "ImageBucketName": (self.storage.bucket.bucket_name, "the {bucket} of upload URLs"),
            "StateMachineArn": (self.workflow.state_machine.state_machine_arn, "the tagging workflow"),
            "StateMachineConsoleUrl": (self.workflow.console_url(), "executions, failures and redrive"),
            "BackfillStateMachineArn": (self.backfill.state_machine.state_machine_arn,
                                        "autotagger reprocess --aws: re-tags the bucket (a Distributed Map)"),
            "BackfillResultsBucketName": (self.backfill.results.bucket_name, "the backfill's Map Run results"),
            "OpenSearchEndpoint": (self.search.endpoint_url, "reachable from inside the VPC only"),
            "DashboardsUrl": (f"https://localhost:{DASHBOARDS_LOCAL_PORT}{self.search.dashboards_path}",
                              "after the SSM port forwarding command of the README"),
            "DashboardsSecretArn": (self.search.master_user.secret_arn, "Dashboards login (user admin)"),
            "AlarmTopicArn": (self.alarms.topic.topic_arn, "subscribe to get the alarms"),
        }
        for name, queue in self.dead_letters.all.items():
            outputs[f"{name}DeadLetterQueueUrl"] = (queue.queue_url, f"{name.lower()} dead letters")
        if self.network.bastion is not None:
            outputs["BastionInstanceId"] = (self.network.bastion.instance_id, "target of the SSM session")
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
