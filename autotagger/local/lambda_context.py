"""The `context` object a Python Lambda handler receives, for invoking a handler locally."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime


class LambdaContext:
    """What a Python Lambda handler gets as `context` (the attributes Powertools and handlers use)."""

    def __init__(self, function_name: str, *, region: str, account: str, memory_limit_in_mb: int = 512,
                 timeout_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._clock = clock
        self._deadline = clock() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))
