"""The dead-letter queues: where an image ends when it cannot be tagged or indexed.

Three queues, one per hand-off that can fail for good, so an alarm names the failing stage:
- `workflow`: the state machine's own dead letters (reason + original event, see the ASL file);
- `rule`: events EventBridge could not deliver to the state machine after its retries;
- `indexer`: Kinesis batches the indexer Lambda gave up on (the on-failure destination).
SQS-managed encryption (SSE-SQS) is used because EventBridge and Lambda can write to it without
a customer key policy, and TLS is enforced by the queue policy.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.nag import Ack, acknowledge
from cdk.removal import removal_policy

RETENTION = Duration.days(14)
"""SQS's maximum: two weeks to notice the alarm, fix the cause and redrive."""


class DeadLetterQueues(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.workflow = self._queue("Workflow", config)
        self.rule = self._queue("Rule", config)
        self.indexer = self._queue("Indexer", config)

    def _queue(self, name: str, config: DeploymentConfig) -> sqs.Queue:
        queue = sqs.Queue(
            self, name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
            removal_policy=removal_policy(config),
        )
        acknowledge(queue, Ack("SQS3", "This queue is itself a dead-letter queue (of the workflow, the "
                                       "EventBridge target or the Kinesis event source): it has no DLQ of its own."))
        return queue

    @property
    def all(self) -> dict[str, sqs.Queue]:
        return {"Workflow": self.workflow, "Rule": self.rule, "Indexer": self.indexer}
