"""Normalize Lambda: one original in the image bucket -> its upright JPEG under the derivatives prefix.

`handler` is `autotagger.normalize.make_handler` bound to S3; the local runtime binds the same
factory to its bucket on disk. The workflow invokes it through `arn:aws:states:::lambda:invoke`.
"""

from __future__ import annotations

import boto3

from autotagger.normalize.handler import make_handler
from autotagger.normalize.s3 import S3Objects

_s3 = boto3.client("s3")  # created once per process, reused by every invocation

handler = make_handler(lambda bucket: S3Objects(_s3, bucket))
