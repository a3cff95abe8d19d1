"""Every case of `cases.CASES` against (a) the local server and (b) the API Lambda on API Gateway
REST proxy events (moto + osmem-server), on the same seeded data; then both runtimes' answers,
normalised (no timestamps, URLs, cursors or ARNs), must be equal. Every answer is also checked
against the OpenAPI document: a status it declares for the route, and that status' body schema.

A case runs on the local server only once the server serves its `/v1` route (and has moved to the
document's routes and error shape at all); until then its local half is skipped with the route it
waits for.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from autotagger.domain.documents import document_id
from tests.aws_api.api_lambda_support import DOCUMENT, schema_for
from tests.contract.cases import ANY_TEXT, CASES, Case, Step
from tests.contract.seeds import data_of
from tests.support.worlds import BUCKET, Answer, route_template

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

RUNTIMES = ("aws", "local")
# The local server has moved to the document when it serves this read route.
MOVED_TO_V1 = ("GET", "/v1/images")
_PLACEHOLDER = re.compile(r"\{(id|dead_letter):([^}]+)\}")
# moto names AWS SDK integration errors with the service in lower case ("rekognition.X"); Step
# Functions and the local engine write "Rekognition.X". Only that spelling is folded.
_MOTO_SERVICE = re.compile(r"^(rekognition|kinesis|sqs)\.(?=[A-Z])")
# What differs between two runs of the same data: times, URLs, cursors, ARNs, receipt-level ids,
# the runtimes' own event envelopes (account, region, event id), free-text causes.
VOLATILE = {"indexed_at", "sent_at", "failed_at", "start_date", "stop_date", "expires_at", "image_url", "url",
            "next_cursor", "arn", "execution_id", "sequencer", "cause", "history", "input", "body", "message_id"}


# -- helpers ---------------------------------------------------------------------------------------

def pick(value: Any, path: str) -> Any:
    """`a.b` is a key path; `a[]` maps the rest of the path over the list `a` (`[]` over the answer)."""
    if not path:
        return value
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        return [pick(item, rest) for item in (value[head[:-2]] if head[:-2] else value)]
    return pick(value[head], rest)


def fold_moto(value: Any) -> Any:
    if isinstance(value, str):
        return _MOTO_SERVICE.sub(lambda m: m.group(1).capitalize() + ".", value)
    if isinstance(value, list):
        return [fold_moto(v) for v in value]
    if isinstance(value, dict):
        return {k: fold_moto(v) for k, v in value.items()}
    return value


# A redrive's execution is named after the message, which each runtime ids its own way, and by its
# own scheme (local `redrive-<message id>`, AWS `reprocess.execution_name("redrive", "dlq", id)`).
_REDRIVE_NAME = re.compile(r"^redrive-.+")


def normalise(value: Any, names: dict[str, str]) -> Any:
    """Without VOLATILE fields; the runtime's own ids written as the case's placeholders; a queue
    the runtime does not have (the rule's, AWS only) and holding nothing left out; a field that is
    null left out, as absent reads the same to a client (the schema check holds every answer to the
    fields the document requires)."""
    if isinstance(value, str):
        return _REDRIVE_NAME.sub("redrive-<of the message>", names.get(value, value))
    if isinstance(value, list):
        return [normalise(v, names) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, names) for k, v in value.items()
                if k not in VOLATILE and v is not None and not (k == "rule" and v == [])}
    return value


class Resolver:
    """The case's placeholders on one runtime, looked up once (before the first request)."""

    def __init__(self, world):
        self.world = world
        self.values: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: self._value(m.group(0), m.group(1), m.group(2)), value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value

    def _value(self, placeholder: str, kind: str, key: str) -> str:
        if placeholder not in self.values:
            if kind == "id":
                self.values[placeholder] = document_id(BUCKET, key)
            else:
                letters = self.world.call("GET", "/v1/dead-letters").body["workflow"]
                [message_id] = [letter["message_id"] for letter in letters
                                if letter["body"]["event"]["detail"]["object"]["key"] == key]
                self.values[placeholder] = message_id
        return self.values[placeholder]

    def names(self) -> dict[str, str]:
        return {value: placeholder for placeholder, value in self.values.items()}


def check_documented(method: str, path: str, answer: Answer) -> None:
    """The status is one the document declares for the route, the body the schema it declares."""
    template = route_template(method, path)
    if template is None:  # no such route: still the one error shape
        assert answer.status == 404
        Draft202012Validator({"$ref": "#/components/schemas/Error", "components": DOCUMENT["components"]}
                             ).validate(answer.body)
        return
    responses = DOCUMENT["paths"][template][method.lower()]["responses"]
    assert str(answer.status) in responses, f"{method} {template} answered {answer.status}, not documented"
    if answer.body is not None or "content" in responses[str(answer.status)]:
        Draft202012Validator(schema_for(method, template, answer.status)).validate(answer.body)


def missing_route(world, case: Case) -> str | None:
    """Why the case cannot run on this runtime's server yet, or None."""
    for step in case.steps:
        method, path = step.request.method, _PLACEHOLDER.sub("x", step.request.path)
        if route_template(method, path) is not None and not world.serves(method, path):
            return f"the local server does not serve {method} {path} yet (the local /v1 routes of issue 11)"
    if not world.serves(*MOVED_TO_V1):
        return (f"the local server has not moved to the /v1 routes and the {{error, message}} shape yet "
                f"({' '.join(MOVED_TO_V1)} is missing)")
    return None


def call(world, step: Step, resolve: Resolver, query: dict[str, list[str]] | None = None) -> Answer:
    request = step.request
    path, body = resolve(request.path), resolve(request.body)
    text = body if body is None or isinstance(body, (str, bytes)) else json.dumps(body)
    answer = world.call(request.method, path, query if query is not None else request.query, text, request.headers)
    if world.name == "aws":
        answer.body = fold_moto(answer.body)
    check_documented(request.method, path, answer)
    return answer


def run_step(world, case: Case, step: Step, resolve: Resolver) -> Any:
    """Sends the step, checks it; answers what is compared between the runtimes."""
    world.settle()
    answer = call(world, step, resolve)
    assert answer.status == step.status, (answer.status, answer.body)
    if step.error is not None:
        assert answer.body == {"error": step.error, "message": ANY_TEXT}, answer.body
    compared = answer.body
    if step.walk is not None:
        compared, page, pages = [], answer.body, 0
        while True:
            compared += pick(page, step.walk)
            if page["next_cursor"] is None:
                break
            pages += 1
            assert pages < 100, "the cursor walk does not end"
            page = call(world, step, resolve, {**(step.request.query or {}), "cursor": [page["next_cursor"]]}).body
        assert len(compared) == len(set(map(json.dumps, compared))), f"a page repeated an item: {compared}"
    for path, expected in step.contains.items():
        assert pick(compared, path) == resolve(expected), (path, pick(compared, path))
    if step.fetch is not None:
        status, content = world.fetch(answer.body["image_url"])
        assert (status, content) == (200, data_of(case.setup, step.fetch))
    if step.send is not None:
        ticket = answer.body
        # Content-Length is the body's own: an HTTP client cannot send another (the ticket's is what was signed)
        headers = {name: value for name, value in ticket["headers"].items() if name.lower() != "content-length"}
        if step.send.content_type:
            headers["Content-Type"] = step.send.content_type
        status, _ = world.fetch(ticket["url"], ticket["method"], step.send.data, headers)
        stored = world.stored(ticket["key"])
        if step.send.stored:
            assert (status, stored) == (200, (step.send.data, ticket["headers"]["Content-Type"]))
        else:
            assert 400 <= status < 500 and stored is None, (status, stored)
    return compared


# -- the tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime, case", [(r, c) for r in RUNTIMES for c in CASES],
                         ids=[f"{r}: {c.name}" for r in RUNTIMES for c in CASES])
def test_given_the_seeded_data_when_the_case_is_sent_then_the_runtime_answers_as_the_table_says(
        runtime: str, case: Case, request):
    if runtime in case.not_on:
        pytest.skip(case.not_on[runtime])
    world = request.getfixturevalue(f"{runtime}_world")
    reason = missing_route(world, case)
    if reason:
        pytest.skip(reason)
    resolve = Resolver(world)
    answers = [run_step(world, case, step, resolve) for step in case.steps]
    world.answers[case.name] = normalise(answers, resolve.names())


@pytest.mark.parametrize("case", [c for c in CASES if not c.not_on], ids=[c.name for c in CASES if not c.not_on])
def test_given_the_same_data_when_both_runtimes_answer_the_case_then_the_answers_are_the_same(case: Case, request):
    worlds = {runtime: request.getfixturevalue(f"{runtime}_world") for runtime in RUNTIMES}
    missing = [runtime for runtime, world in worlds.items() if case.name not in world.answers]
    if missing:
        pytest.skip(f"the case has not passed on {', '.join(missing)} (skipped or failed: see its runs above)")
    assert worlds["local"].answers[case.name] == worlds["aws"].answers[case.name]


# -- fuzzing: last, on the same worlds (it redrives and uploads) --------------------------------------

# Reading SQS long-polls (about a second per empty queue): fewer examples there.
FUZZ_EXAMPLES = {"GET /v1/dead-letters": 2, "POST /v1/dead-letters/redrive": 2}


def _fuzz_query(query: dict | None) -> dict[str, list[str]] | None:
    """The query as both runtimes receive it: strings, repeated names as lists."""
    strings = {name: [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
               for name, value in (query or {}).items()}
    return {name: values for name, values in strings.items() if values} or None


def _fuzz_body(case) -> str | bytes | None:
    from schemathesis.core import NotSet

    if isinstance(case.body, NotSet):
        return None
    return case.body if isinstance(case.body, (bytes, str)) else json.dumps(case.body)


def _fuzz(world, operation, mode) -> None:
    """Sends the operation's generated cases (valid or invalid ones, by `mode`) to the runtime."""
    from urllib.parse import unquote

    from hypothesis import HealthCheck, given, settings

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES.get(operation.label, 6), derandomize=True, deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    def send(case):
        decoded = unquote(case.formatted_path)
        # API Gateway hands the Lambda the decoded path; an HTTP server gets it percent-encoded
        path = decoded if world.name == "aws" else case.formatted_path
        headers = {k: str(v) for k, v in (case.headers or {}).items()}
        if case.media_type and _fuzz_body(case) is not None:
            headers.setdefault("Content-Type", case.media_type)
        answer = world.call(case.method, path, _fuzz_query(case.query), _fuzz_body(case), headers)
        assert answer.status < 500, (answer.status, answer.body)
        if route_template(case.method, decoded) == operation.path:  # not a "/" in a value making another path
            check_documented(case.method, decoded, answer)

    send()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_given_any_request_the_document_allows_or_not_when_sent_to_the_runtime_then_no_5xx_and_as_documented(
        runtime: str, request):
    """schemathesis' Hypothesis strategies for every operation of the document, valid and invalid
    (bounded, derandomized), but those the document marks for the other runtime only (`x-runtimes`).
    On AWS the object routes are API Gateway's S3 integration, not the Lambda."""
    import schemathesis
    from hypothesis.errors import Unsatisfiable

    world = request.getfixturevalue(f"{runtime}_world")
    if not world.serves(*MOVED_TO_V1):
        pytest.skip(f"the local server has not moved to the /v1 routes yet ({' '.join(MOVED_TO_V1)} is missing)")
    operations = [o for o in (result.ok() for result in schemathesis.openapi.from_dict(DOCUMENT).get_all_operations())
                  # `x-runtimes` in the document names the only runtimes of an operation
                  if runtime in DOCUMENT["paths"][o.path][o.method.lower()].get("x-runtimes", RUNTIMES)
                  and not (runtime == "aws" and o.path == "/v1/{bucket}/{object}")]
    unserved = [o.label for o in operations
                if not world.serves(o.method.upper(), re.sub(r"\{(\w+)\}", r"\1", o.path))]
    assert unserved == [], f"the {runtime} server lacks routes of the document: {unserved}"
    failures: dict[str, str] = {}
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            try:
                _fuzz(world, operation, mode)
            except Unsatisfiable:
                assert mode is schemathesis.GenerationMode.NEGATIVE  # nothing in the operation can be made invalid
            except Exception as exc:  # noqa: BLE001 - collected, reported together below
                failures[f"{operation.label} ({mode.value})"] = f"{type(exc).__name__}: {exc}"[:2000]
    assert failures == {}, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
