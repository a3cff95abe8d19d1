"""The one OpenAPI 3.1 document of `/v1`: valid, complete, and saying what `ReadApi` enforces."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate
from read_api_fakes import MemoryIndex

from autotagger.api import OPENAPI_PATH, openapi_document
from autotagger.api import service as api_service
from autotagger.api.service import ReadApi, error_response
from tests.fakes import FakeDeadLetterQueue, FakeExecutionLookup, FakeImageIndex, FakeImageUrls

DOCUMENT = openapi_document()
ROUTES = {
    ("put", "/v1/{bucket}/{object}"), ("delete", "/v1/{bucket}/{object}"), ("get", "/v1/images"),
    ("get", "/v1/images/{id}"), ("get", "/v1/stats/tags"), ("get", "/v1/stats/images"), ("get", "/v1/executions"),
    ("get", "/v1/executions/{name}"), ("get", "/v1/dead-letters"), ("post", "/v1/dead-letters/redrive"),
    ("post", "/v1/uploads"),
}
# Answered by the local server only (the dashboard's counters, an upload's outcome): marked so in the document.
LOCAL_ONLY_ROUTES = {("get", "/v1/summary"), ("get", "/v1/uploads/{bucket}/{object}")}


def node_ref(ref):
    return ref.removeprefix("#/").split("/")


def deref(node):
    while isinstance(node, dict) and "$ref" in node:
        target = DOCUMENT
        for part in node_ref(node["$ref"]):
            target = target[part]
        node = target
    return node


def parameter(path, name):
    for item in DOCUMENT["paths"][path]["get"]["parameters"]:
        item = deref(item)
        if item["name"] == name:
            return deref(item["schema"])
    raise KeyError(name)


def test_the_document_is_valid_openapi_3_1_and_package_data():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")
    assert OPENAPI_PATH.parent.name == "api" and OPENAPI_PATH.is_file()


def test_every_route_of_the_api_is_described_and_nothing_else():
    described = {(method, path) for path, item in DOCUMENT["paths"].items() for method in item
                 if method in {"get", "put", "post", "delete"}}
    assert described == ROUTES | LOCAL_ONLY_ROUTES
    assert {(method, path) for method, path in described
            if DOCUMENT["paths"][path][method].get("x-runtimes") == ["local"]} == LOCAL_ONLY_ROUTES


def test_every_error_answer_is_the_one_error_shape():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = deref(response)["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    error = DOCUMENT["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    _, body = error_response(RuntimeError("boom"))
    assert set(body) == set(error["properties"])


def api():
    return ReadApi(MemoryIndex(), FakeExecutionLookup([]), [FakeDeadLetterQueue("workflow", [])], FakeImageUrls())


@pytest.mark.parametrize("path, name, call", [
    ("/v1/images", "limit", "search_images"), ("/v1/stats/tags", "top", "tag_stats"),
    ("/v1/executions", "limit", "list_executions"), ("/v1/dead-letters", "limit", "list_dead_letters"),
    ("/v1/images", "min_confidence", "search_images"), ("/v1/stats/images", "min_confidence", "image_stats"),
])
def test_the_documented_bounds_of_a_number_parameter_are_the_ones_the_service_enforces(path, name, call):
    schema = parameter(path, name)
    route = getattr(api(), call)
    route({name: str(schema["minimum"])})
    route({name: str(schema["maximum"])})
    for outside in (schema["minimum"] - 1, schema["maximum"] + 1):
        with pytest.raises(api_service.ApiError) as refused:
            route({name: str(outside)})
        assert refused.value.status == 400


@pytest.mark.parametrize("path, name, call", [("/v1/stats/images", "interval", "image_stats"),
                                              ("/v1/executions", "status", "list_executions")])
def test_the_documented_choices_of_a_parameter_are_the_ones_the_service_accepts(path, name, call):
    route = getattr(api(), call)
    for choice in parameter(path, name)["enum"]:
        route({name: choice})
    with pytest.raises(api_service.ApiError):
        route({name: "other"})
    assert tuple(parameter(path, name)["enum"]) in (api_service.INTERVALS, api_service.EXECUTION_STATUSES)


def test_the_documented_tag_count_and_defaults_are_the_services():
    assert parameter("/v1/images", "tag")["maxItems"] == api_service.MAX_TAGS
    assert parameter("/v1/images", "limit")["default"] == api_service.DEFAULT_SEARCH_LIMIT
    assert parameter("/v1/executions", "limit")["default"] == api_service.DEFAULT_EXECUTIONS_LIMIT
    assert parameter("/v1/dead-letters", "limit")["default"] == api_service.DEFAULT_DEAD_LETTERS_LIMIT


def test_the_documented_upload_limits_are_the_services_and_at_least_50_MB():
    upload = DOCUMENT["components"]["schemas"]["UploadRequest"]["properties"]
    assert upload["size"]["maximum"] == api_service.MAX_UPLOAD_BYTES >= 50_000_000
    assert tuple(upload["content_type"]["enum"]) == api_service.UPLOAD_MEDIA_TYPES
    request = {"key": "big.png", "content_type": "image/png", "size": upload["size"]["maximum"]}
    assert api().create_upload(json.dumps(request))["headers"]["Content-Length"] == str(api_service.MAX_UPLOAD_BYTES)
    request["size"] += 1
    with pytest.raises(api_service.ApiError) as refused:
        api().create_upload(json.dumps(request))
    assert str(refused.value.status) in DOCUMENT["paths"]["/v1/uploads"]["post"]["responses"]


def test_the_documented_text_and_safe_parameters_are_the_services_and_the_threshold_is_the_contracts():
    from autotagger.contracts import MODERATION_THRESHOLD
    from autotagger.index.query import MAX_TEXT_CHARS

    assert parameter("/v1/images", "text")["maxLength"] == MAX_TEXT_CHARS
    assert parameter("/v1/images", "safe") == {"type": "boolean", "default": False}
    route = ReadApi(FakeImageIndex(), FakeExecutionLookup([]), [], FakeImageUrls()).search_images
    route({"text": "a" * MAX_TEXT_CHARS, "safe": "true"})
    with pytest.raises(api_service.ApiError):
        route({"text": "a" * (MAX_TEXT_CHARS + 1)})
    threshold = f"{MODERATION_THRESHOLD:g}"
    described = [deref(p)["description"] for p in DOCUMENT["paths"]["/v1/images"]["get"]["parameters"]
                 if deref(p)["name"] == "safe"][0]
    assert f"threshold ({threshold}" in described
    assert f"threshold ({threshold})" in DOCUMENT["components"]["schemas"]["ImageDocument"]["properties"][
        "moderation"]["description"]
