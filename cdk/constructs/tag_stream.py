"""The Kinesis stream between the workflow and the indexer.

A stream (not a direct Lambda call) decouples tagging from indexing: OpenSearch can be slow or
down for a while and nothing is lost, records of one object stay ordered on one shard, and the
indexer receives batches. Encrypted with the AWS-managed key (no key policy to maintain; the
workflow's kinesis:PutRecord needs no extra KMS grant with it).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.removal import removal_policy

RETENTION = Duration.hours(24)


class TagStream(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        on_demand = config.stream_mode == "on-demand"
        self.stream = kinesis.Stream(
            self, "Stream",
            stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
            shard_count=None if on_demand else config.stream_shards,
            encryption=kinesis.StreamEncryption.MANAGED,
            retention_period=RETENTION,
            removal_policy=removal_policy(config),
        )
