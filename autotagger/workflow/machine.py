"""StateMachine and Execution: the public face of the local workflow engine.

`StateMachine.from_file` loads and validates a definition once; `run` executes it synchronously
in the calling thread (the local runtime runs many executions in a thread pool), so one compiled
StateMachine is shared by all executions and holds no per-execution state.
"""

from __future__ import annotations

import json
import logging
import random as _random
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from autotagger.contracts import LOCAL_REGION, execution_arn, state_machine_arn

from .definition import compile_definition, parse_definition, substitute
from .failures import DefinitionError, check_size
from .history import Execution, ExecutionListener, utc_now
from .interpreter import LOCAL_ROLE, Run, begin_execution, execute, execution_context
from .intrinsics import json_text
from .registry import TaskRegistry
from .task_runner import DEFAULT_RUNNER, TaskRunner

log = logging.getLogger(__name__)

_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise ValueError(
            f"invalid {what} name {name!r}: 1 to 80 characters, "
            "no spaces, brackets, wildcards or punctuation such as :/,;\""
        )
    return name


class StateMachine:
    def __init__(
        self,
        definition: dict[str, Any] | str,
        *,
        name: str = "state-machine",
        substitutions: dict[str, Any] | None = None,
        sleeper: Callable[[float], Any] = time.sleep,
        random: _random.Random | None = None,
        clock: Callable[[], datetime] = utc_now,
        runner: TaskRunner | None = None,
    ):
        text = definition if isinstance(definition, str) else json.dumps(definition)
        self.definition = parse_definition(substitute(text, substitutions))
        self.graph, self.resources, self.timeout_seconds = compile_definition(self.definition)
        self.name = _check_name(name, "state machine")
        self.arn = state_machine_arn(name)
        self.sleeper = sleeper
        self.random = random if random is not None else _random.Random()
        self.clock = clock
        self.runner = runner or DEFAULT_RUNNER

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        substitutions: dict[str, Any] | None = None,
        name: str = "state-machine",
        **options: Any,
    ) -> StateMachine:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise DefinitionError(f"cannot read the definition {path}: {exc}") from None
        return cls(text, name=name, substitutions=substitutions, **options)

    def run(
        self,
        input: Any,
        registry: TaskRegistry,
        execution_name: str | None = None,
        listener: ExecutionListener | None = None,
        *,
        sleeper: Callable[[float], Any] | None = None,
        random: _random.Random | None = None,
    ) -> Execution:
        """Runs one execution to its end and returns it.

        `input` is a JSON value, or JSON text (str/bytes) as StartExecution takes it. Raises
        UnknownResourceError before starting when a Task resource has no adapter, and whatever the
        listener raises on ExecutionStarted (which must be durable before any task runs).
        """
        registry.check(self.resources)
        name = _check_name(execution_name or str(uuid.uuid4()), "execution")
        input_text = (
            input.decode() if isinstance(input, bytes) else input if isinstance(input, str) else json_text(input)
        )
        try:
            value = json.loads(input_text)
        except ValueError as exc:
            raise ValueError(f"the execution input is not JSON: {exc}") from None
        check_size(input_text, "(execution)", "input")
        started = self.clock()
        execution = Execution(
            arn=execution_arn(self.name, name), name=name, state_machine_arn=self.arn, input=value, start_date=started
        )
        history = begin_execution(execution, listener, self.clock, input_text, LOCAL_ROLE)
        run = Run(
            registry=registry,
            history=history,
            execution_context=execution_context(execution, LOCAL_ROLE),
            state_machine_context={"Id": self.arn, "Name": self.name},
            sleeper=sleeper if sleeper is not None else self.sleeper,
            rng=random if random is not None else self.random,
            clock=self.clock,
            runner=self.runner,
            timeout_seconds=self.timeout_seconds,
            region=LOCAL_REGION,
        )
        execute(execution, run, self.graph.run, value)
        return execution
