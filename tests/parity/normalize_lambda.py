"""The Normalize Lambda for runs against moto: moto's Lambda needs Docker, so the deployed
handler's own factory (`autotagger.normalize.make_handler` around boto3 S3, as in
functions/normalize/handler.py) runs in-process behind `arn:aws:states:::lambda:invoke`."""

from __future__ import annotations

from autotagger.contracts import NORMALIZE_FUNCTION_NAME, function_arn
from autotagger.local.lambda_context import LambdaContext
from autotagger.local.task_adapters import LAMBDA_INVOKE_ARN, lambda_invoke_adapter
from autotagger.normalize import make_handler
from autotagger.normalize.s3 import S3Objects
from autotagger.workflow import TaskRegistry

NORMALIZE_ARN = function_arn(NORMALIZE_FUNCTION_NAME)


def normalize_registry(s3_client) -> TaskRegistry:
    handler = make_handler(lambda bucket: S3Objects(s3_client, bucket))
    context = lambda arn: LambdaContext(NORMALIZE_FUNCTION_NAME, region="us-east-1", account="123456789012")  # noqa: E731
    return TaskRegistry().register(LAMBDA_INVOKE_ARN, lambda_invoke_adapter({NORMALIZE_ARN: handler}, context))
