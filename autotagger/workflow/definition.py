"""Loading a definition: substitutions, validation and compilation into state objects.

Everything is checked here, before any execution, and a definition that uses something this
engine does not implement (JSONata, variables, callbacks, item readers other than S3 listings...)
is refused with a DefinitionError naming the state and the field — never run with different
semantics. A distributed Map's own fields are compiled by `distributed_map`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import distributed_map
from .choice import compile_rule, parse_timestamp
from .failures import DefinitionError
from .intrinsics import json_text
from .paths import MISSING, compile_path, compile_reference_path
from .retry import compile_catch, compile_retry
from .states import Choice, Fail, Graph, Map, Parallel, Pass, State, Succeed, Task, Wait
from .templates import compile_dynamic, compile_template

_SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")

_COMMON = {"Type", "Comment", "QueryLanguage"}
_IO = {"InputPath", "OutputPath"}
_FLOW = {"Next", "End"}
_RESULTS = {"Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"}
_FIELDS = {
    "Pass": _COMMON | _IO | _FLOW | {"Parameters", "Result", "ResultPath"},
    "Task": (_COMMON | _IO | _FLOW | _RESULTS
             | {"Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"}),
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _IO | _FLOW | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _COMMON | _IO | _FLOW | _RESULTS | {"Branches"},
    "Map": (_COMMON | _IO | _FLOW | _RESULTS
            | {"ItemsPath", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency"}
            | distributed_map.DISTRIBUTED_FIELDS),
}
# Fields Step Functions knows but this engine does not implement: refused by name, with the reason.
_UNSUPPORTED = {
    "Arguments": "JSONata states are not supported",
    "Output": "JSONata states are not supported",
    "Assign": "workflow variables are not supported",
    "Credentials": "cross-account task credentials are not supported",
}
_TOP_LEVEL = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}


def substitute(text: str, substitutions: dict[str, Any] | None) -> str:
    """Applies `${Name}` DefinitionSubstitutions textually, as CloudFormation does."""
    substitutions = substitutions or {}
    missing = sorted({name for name in _SUBSTITUTION.findall(text) if name not in substitutions})
    if missing:
        raise DefinitionError(
            f"the definition uses substitution(s) {', '.join('${' + m + '}' for m in missing)} but no value was given"
        )
    return _SUBSTITUTION.sub(lambda m: str(substitutions[m.group(1)]), text)


def parse_definition(text: str) -> dict[str, Any]:
    try:
        definition = json.loads(text)
    except ValueError as exc:
        raise DefinitionError(f"the definition is not valid JSON: {exc}") from None
    if not isinstance(definition, dict):
        raise DefinitionError("the definition must be a JSON object")
    return definition


def _where(state: str, field: str | None = None) -> str:
    return f"state '{state}'" + (f" field {field}" if field else "")


def _path_or_null(state: dict[str, Any], key: str, name: str, reference: bool = False) -> Any:
    """'$' (the default), None for JSON null, or a compiled path."""
    if key not in state:
        return "$"
    value = state[key]
    if value is None:
        return None
    if value == "$":
        return "$"
    try:
        return (compile_reference_path if reference else compile_path)(value)
    except DefinitionError as exc:
        raise DefinitionError(f"{_where(name, key)}: {exc}") from None


def _positive_int(state: dict[str, Any], key: str, name: str) -> int | None:
    if key not in state:
        return None
    value = state[key]
    if type(value) is not int or value <= 0:
        raise DefinitionError(f"{_where(name, key)}: must be a positive integer, got {json_text(value)}")
    return value


class _Compiler:
    def __init__(self) -> None:
        self.resources: set[str] = set()
        # State names are unique in the whole definition, Parallel branches and Map processors
        # included: Step Functions refuses a repeated one (asl-validator's DUPLICATE_STATE_NAMES),
        # and its history and logs name states by name alone.
        self.names: set[str] = set()

    def graph(self, body: Any, where: str) -> Graph:
        if not isinstance(body, dict):
            raise DefinitionError(f"{where}: must be an object with StartAt and States")
        states = body.get("States")
        start: Any = body.get("StartAt")  # any JSON value until it is found among the States
        if not isinstance(states, dict) or not states:
            raise DefinitionError(f"{where}: States must be a non-empty object")
        if start not in states:
            raise DefinitionError(f"{where}: StartAt {json_text(start)} is not one of its States")
        names = set(states)
        compiled: dict[str, State] = {}
        edges: dict[str, set[str]] = {}
        for name, state in states.items():
            if len(name) > 80:
                raise DefinitionError(f"{_where(name)}: state names may have at most 80 characters")
            if name in self.names:
                raise DefinitionError(f"{where}: state name {name!r} is used twice (state names are unique in the "
                                      "whole state machine, Parallel branches and Map processors included)")
            self.names.add(name)
            compiled[name], edges[name] = self.state(name, state, names)
        reachable = {start}
        todo = [start]
        while todo:
            for target in edges[todo.pop()]:
                if target not in reachable:
                    reachable.add(target)
                    todo.append(target)
        unreachable = sorted(names - reachable)
        if unreachable:
            raise DefinitionError(
                f"{where}: state(s) {', '.join(unreachable)} cannot be reached from StartAt {start!r}"
            )
        return Graph(start, compiled)

    def state(self, name: str, state: Any, names: set[str]) -> tuple[State, set[str]]:
        if not isinstance(state, dict):
            raise DefinitionError(f"{_where(name)}: must be an object")
        kind = state.get("Type")
        if kind not in _FIELDS:
            raise DefinitionError(
                f"{_where(name, 'Type')}: {json_text(kind)} is not a state type "
                "(Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map)"
            )
        for key in state:
            if key in _UNSUPPORTED:
                raise DefinitionError(f"{_where(name, key)}: not supported by the local engine ({_UNSUPPORTED[key]})")
            if key not in _FIELDS[kind]:
                raise DefinitionError(f"{_where(name, key)}: unknown field for a {kind} state")
        if state.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise DefinitionError(f"{_where(name, 'QueryLanguage')}: only JSONPath is supported (JSONata is not)")
        edges: set[str] = set()
        common: dict[str, Any] = {}
        if kind not in ("Choice", "Succeed", "Fail"):
            has_next, has_end = "Next" in state, state.get("End") is True
            if "End" in state and state["End"] is not True:
                raise DefinitionError(f"{_where(name, 'End')}: must be true when present")
            if has_next == has_end:
                raise DefinitionError(f"{_where(name)}: needs exactly one of Next or End")
            if has_next:
                if state["Next"] not in names:
                    raise DefinitionError(
                        f"{_where(name, 'Next')}: {json_text(state['Next'])} is not a state of this state machine"
                    )
                edges.add(state["Next"])
                common["next_state"] = state["Next"]
        if kind != "Fail":
            common["input_path"] = _path_or_null(state, "InputPath", name)
            common["output_path"] = _path_or_null(state, "OutputPath", name)
        build = {
            "Pass": self.pass_state,
            "Task": self.task,
            "Choice": self.choice,
            "Wait": self.wait,
            "Succeed": self.succeed,
            "Fail": self.fail,
            "Parallel": self.parallel,
            "Map": self.map,
        }[kind]
        return build(name, state, names, common, edges), edges

    # -- per type
    def pass_state(
        self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]
    ) -> Pass:
        return Pass(
            name,
            parameters=self.template(state, "Parameters", name),
            result=state.get("Result", MISSING),
            result_path=_path_or_null(state, "ResultPath", name, reference=True),
            **common,
        )

    def template(self, state: dict[str, Any], key: str, name: str) -> Any:
        if key not in state:
            return None
        return compile_template(state[key], f"{_where(name, key)}")

    def recoverable(self, name: str, state: dict[str, Any], names: set[str], edges: set[str]) -> dict[str, Any]:
        catch = compile_catch(state.get("Catch", []), _where(name), names)
        edges.update(c.next for c in catch)
        return {
            "parameters": self.template(state, "Parameters", name),
            "result_selector": self.template(state, "ResultSelector", name),
            "result_path": _path_or_null(state, "ResultPath", name, reference=True),
            "retry": compile_retry(state.get("Retry", []), _where(name)),
            "catch": catch,
        }

    def task(self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]) -> Task:
        resource = state.get("Resource")
        if not isinstance(resource, str) or not resource.startswith("arn:"):
            raise DefinitionError(f"{_where(name, 'Resource')}: must be an ARN, got {json_text(resource)}")
        if resource.endswith(".waitForTaskToken"):
            raise DefinitionError(
                f"{_where(name, 'Resource')}: the callback pattern (.waitForTaskToken) "
                "is not supported by the local engine"
            )
        if resource.startswith("arn:aws:states:") and ":activity:" in resource:
            raise DefinitionError(f"{_where(name, 'Resource')}: activities are not supported by the local engine")
        for fixed, path in (("TimeoutSeconds", "TimeoutSecondsPath"), ("HeartbeatSeconds", "HeartbeatSecondsPath")):
            if fixed in state and path in state:
                raise DefinitionError(f"{_where(name)}: {fixed} and {path} are mutually exclusive")
        timeout = _positive_int(state, "TimeoutSeconds", name)
        heartbeat = _positive_int(state, "HeartbeatSeconds", name)
        if heartbeat is not None and timeout is not None and heartbeat >= timeout:
            raise DefinitionError(f"{_where(name, 'HeartbeatSeconds')}: must be smaller than TimeoutSeconds")
        self.resources.add(resource)
        paths = {
            key: compile_dynamic(state[key], _where(name, key), intrinsics=False) if key in state else None
            for key in ("TimeoutSecondsPath", "HeartbeatSecondsPath")
        }
        return Task(
            name,
            resource=resource,
            timeout=timeout,
            heartbeat=heartbeat,
            timeout_path=paths["TimeoutSecondsPath"],
            heartbeat_path=paths["HeartbeatSecondsPath"],
            **self.recoverable(name, state, names, edges),
            **common,
        )

    def choice(
        self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]
    ) -> Choice:
        rules = state.get("Choices")
        if not isinstance(rules, list) or not rules:
            raise DefinitionError(f"{_where(name, 'Choices')}: must be a non-empty array")
        compiled = []
        for i, rule in enumerate(rules):
            where = f"{_where(name)} Choices[{i}]"
            predicate = compile_rule(rule, where, top_level=True)
            if rule["Next"] not in names:
                raise DefinitionError(f"{where}.Next: {json_text(rule['Next'])} is not a state of this state machine")
            edges.add(rule["Next"])
            compiled.append((predicate, rule["Next"]))
        default = state.get("Default")
        if default is not None:
            if default not in names:
                raise DefinitionError(
                    f"{_where(name, 'Default')}: {json_text(default)} is not a state of this state machine"
                )
            edges.add(default)
        return Choice(name, rules=compiled, default=default, **common)

    def wait(self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]) -> Wait:
        given = [key for key in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if key in state]
        if len(given) != 1:
            raise DefinitionError(
                f"{_where(name)}: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath, "
                f"got {given or 'none'}"
            )
        seconds = state.get("Seconds")
        if "Seconds" in state and (type(seconds) is not int or seconds < 0):
            raise DefinitionError(f"{_where(name, 'Seconds')}: must be a non-negative integer")
        if "Timestamp" in state and parse_timestamp(state["Timestamp"]) is None:
            raise DefinitionError(
                f"{_where(name, 'Timestamp')}: must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z"
            )
        paths = {
            key: compile_dynamic(state[key], _where(name, key), intrinsics=False) if key in state else None
            for key in ("SecondsPath", "TimestampPath")
        }
        return Wait(
            name,
            seconds=seconds,
            timestamp=state.get("Timestamp"),
            seconds_path=paths["SecondsPath"],
            timestamp_path=paths["TimestampPath"],
            **common,
        )

    def succeed(
        self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]
    ) -> Succeed:
        return Succeed(name, **common)

    def fail(self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]) -> Fail:
        values: dict[str, Any] = {}
        for fixed, path in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if fixed in state and path in state:
                raise DefinitionError(f"{_where(name)}: {fixed} and {path} are mutually exclusive")
            if fixed in state:
                if not isinstance(state[fixed], str):
                    raise DefinitionError(f"{_where(name, fixed)}: must be a string")
                values[fixed] = state[fixed]
            elif path in state:
                values[fixed] = compile_dynamic(state[path], _where(name, path))
            else:
                values[fixed] = None
        return Fail(name, error=values["Error"], cause=values["Cause"])

    def parallel(
        self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]
    ) -> Parallel:
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            raise DefinitionError(f"{_where(name, 'Branches')}: must be a non-empty array")
        graphs = [self.graph(body, f"{_where(name)} Branches[{i}]") for i, body in enumerate(branches)]
        return Parallel(name, branches=graphs, **self.recoverable(name, state, names, edges), **common)

    def map(
        self, name: str, state: dict[str, Any], names: set[str], common: dict[str, Any], edges: set[str]
    ) -> Map | distributed_map.DistributedMap:
        if ("ItemProcessor" in state) == ("Iterator" in state):
            raise DefinitionError(f"{_where(name)}: a Map state needs exactly one of ItemProcessor or Iterator")
        body = state.get("ItemProcessor", state.get("Iterator"))
        distributed = False
        if isinstance(body, dict):
            config = body.get("ProcessorConfig", {})
            mode = config.get("Mode", "INLINE") if isinstance(config, dict) else None
            if mode not in ("INLINE", "DISTRIBUTED"):
                raise DefinitionError(
                    f"{_where(name, 'ItemProcessor.ProcessorConfig.Mode')}: must be INLINE or DISTRIBUTED"
                )
            distributed = mode == "DISTRIBUTED"
            if distributed:
                distributed_map.compile_processor_config(config, name)
            elif "ExecutionType" in config:
                raise DefinitionError(
                    f"{_where(name, 'ItemProcessor.ProcessorConfig.ExecutionType')}: only for a distributed Map"
                )
            body = {k: v for k, v in body.items() if k != "ProcessorConfig"}
        if not distributed:
            for key in sorted(distributed_map.DISTRIBUTED_FIELDS & set(state)):
                raise DefinitionError(
                    f"{_where(name, key)}: only a distributed Map (ItemProcessor.ProcessorConfig.Mode "
                    "DISTRIBUTED) has this field"
                )
        if "ItemSelector" in state and "Parameters" in state:
            raise DefinitionError(f"{_where(name)}: ItemSelector and Parameters are mutually exclusive")
        if "MaxConcurrency" in state and "MaxConcurrencyPath" in state:
            raise DefinitionError(f"{_where(name)}: MaxConcurrency and MaxConcurrencyPath are mutually exclusive")
        concurrency = state.get("MaxConcurrency", 0)
        if type(concurrency) is not int or concurrency < 0:
            raise DefinitionError(f"{_where(name, 'MaxConcurrency')}: must be a non-negative integer")
        if "ItemReader" in state and "ItemsPath" in state:
            raise DefinitionError(f"{_where(name)}: ItemsPath and ItemReader are mutually exclusive")
        items_path = _path_or_null(state, "ItemsPath", name)
        if items_path is None:
            raise DefinitionError(f"{_where(name, 'ItemsPath')}: must be a path")
        fields = self.recoverable(name, state, names, edges)
        selector = self.template(state, "ItemSelector", name)
        if selector is None:
            selector, fields["parameters"] = fields["parameters"], None  # legacy Parameters = ItemSelector
        processor = self.graph(body, f"{_where(name, 'ItemProcessor')}")
        if not distributed:
            return Map(name, processor=processor, items_path=items_path, item_selector=selector,
                       max_concurrency=concurrency, **fields, **common)
        state_map = distributed_map.DistributedMap(
            name,
            processor=processor,
            items_path=items_path,
            item_selector=selector,
            max_concurrency=distributed_map.compile_setting(state, "MaxConcurrency", _where(name))
            or distributed_map.Setting("MaxConcurrency", 0, None, True, None),
            reader=distributed_map.compile_item_reader(state["ItemReader"], name) if "ItemReader" in state else None,
            batcher=distributed_map.compile_item_batcher(state["ItemBatcher"], name)
            if "ItemBatcher" in state else None,
            writer=distributed_map.compile_result_writer(state["ResultWriter"], name)
            if "ResultWriter" in state else None,
            tolerated_percentage=distributed_map.compile_setting(
                state, "ToleratedFailurePercentage", _where(name), integer=False, maximum=100),
            tolerated_count=distributed_map.compile_setting(state, "ToleratedFailureCount", _where(name)),
            label=self.label(state, name),
            **fields,
            **common,
        )
        self.resources |= state_map.resources()
        return state_map

    @staticmethod
    def label(state: dict[str, Any], name: str) -> str | None:
        label = state.get("Label")
        if label is not None and (not isinstance(label, str) or not 1 <= len(label) <= 40
                                  or re.search(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/]", label)):
            raise DefinitionError(f"{_where(name, 'Label')}: 1 to 40 characters, no spaces or punctuation "
                                  "such as :/,;\"")
        return label


def compile_definition(definition: dict[str, Any]) -> tuple[Graph, set[str], float | None]:
    """Validates a parsed definition; returns its graph, the Task resources it uses and its TimeoutSeconds."""
    unknown = set(definition) - _TOP_LEVEL
    if unknown:
        raise DefinitionError(f"unknown top-level field(s) {sorted(unknown)}")
    if definition.get("QueryLanguage", "JSONPath") != "JSONPath":
        raise DefinitionError("QueryLanguage: only JSONPath is supported (JSONata is not)")
    if definition.get("Version", "1.0") != "1.0":
        raise DefinitionError(f'Version: only "1.0" exists, got {json_text(definition["Version"])}')
    timeout = definition.get("TimeoutSeconds")
    if timeout is not None and (type(timeout) is not int or timeout <= 0):
        raise DefinitionError(f"TimeoutSeconds: must be a positive integer, got {json_text(timeout)}")
    compiler = _Compiler()
    graph = compiler.graph(definition, "the state machine")
    return graph, compiler.resources, timeout
