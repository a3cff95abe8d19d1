"""`ReadApi`: the read routes' parameters, answers and errors, the same for both runtimes."""

from __future__ import annotations

import json

import pytest
from read_api_fakes import MemoryIndex, document

from autotagger.api import service as api_service
from autotagger.api.service import ApiError, ReadApi, error_response
from autotagger.errors import InvalidCursor
from autotagger.ports import DeadLetter, DeadLetterQueue, ExecutionLookup, ImageUrls
from tests.fakes import FakeDeadLetterQueue, FakeExecutionLookup, FakeImageUrls


def make_api(index=None, executions=None, queues=(), urls=None):
    return ReadApi(index or MemoryIndex(), executions or FakeExecutionLookup([]), list(queues), urls or FakeImageUrls())


def answer(call, *args):
    """(status, body) as a runtime sends it."""
    try:
        return 200, call(*args)
    except Exception as exc:  # noqa: BLE001 - the mapping under test
        return error_response(exc)


def test_the_memory_stand_ins_satisfy_the_ports():
    assert isinstance(FakeExecutionLookup([]), ExecutionLookup)
    assert isinstance(FakeDeadLetterQueue("workflow", []), DeadLetterQueue)
    assert isinstance(FakeImageUrls(), ImageUrls)


# -- GET /v1/images -----------------------------------------------------------------------------

def test_given_repeated_tags_when_searching_then_every_tag_and_filter_reaches_the_index():
    index = MemoryIndex([document(1, "Dog", "Animal"), document(2, "Cat", "Animal")])
    found = make_api(index).search_images({"tag": ["dog", "animal"], "min_confidence": ["60"], "limit": ["10"],
                                           "since": ["2026-11-01"], "until": ["2026-12-01T00:00:00Z"]})
    assert [image["key"] for image in found["images"]] == ["raw-image/1.jpg"]
    assert found["total"] == 1 and found["next_cursor"] is None
    assert index.calls == [{"tags": ["dog", "animal"], "min_confidence": 60.0, "limit": 10, "cursor": None,
                            "since": "2026-11-01", "until": "2026-12-01T00:00:00Z"}]


def test_given_more_images_than_a_page_when_walking_the_cursor_then_every_image_comes_once():
    index = MemoryIndex([document(n, "Dog") for n in range(1, 12)])
    api, seen, params = make_api(index), [], {"tag": "Dog", "limit": "4"}
    while True:
        page = api.search_images(params)
        seen += [image["id"] for image in page["images"]]
        if page["next_cursor"] is None:
            break
        params = {"tag": "Dog", "limit": "4", "cursor": page["next_cursor"]}
    assert len(seen) == len(set(seen)) == 11


def test_given_no_parameters_when_searching_then_the_documented_defaults_apply():
    index = MemoryIndex()
    assert make_api(index).search_images({}) == {"total": 0, "images": [], "next_cursor": None}
    assert index.calls[0] == {"tags": None, "min_confidence": 0.0, "limit": 50, "cursor": None, "since": None,
                              "until": None}


@pytest.mark.parametrize("params, fragment", [
    ({"limit": "501"}, "limit must be between 0 and 500"),
    ({"limit": "ten"}, "limit must be an integer"),
    ({"min_confidence": "101"}, "min_confidence must be between 0 and 100"),
    ({"min_confidence": "nan"}, "min_confidence must be between 0 and 100"),
    ({"since": "yesterday"}, "since must be an ISO 8601 date or time"),
    ({"until": "2026-13-01"}, "until must be an ISO 8601 date or time"),
    ({"tag": [f"t{n}" for n in range(21)]}, "at most 20 tag parameters"),
])
def test_given_an_invalid_search_parameter_when_searching_then_400_names_it(params, fragment):
    status, body = answer(make_api().search_images, params)
    assert (status, body["error"]) == (400, "invalid_parameter")
    assert fragment in body["message"]


def test_given_a_cursor_the_index_never_issued_when_searching_then_400_invalid_cursor():
    status, body = answer(make_api(MemoryIndex([document(1, "Dog")])).search_images, {"cursor": "bm90IGEgY3Vyc29y"})
    assert (status, body["error"]) == (400, "invalid_cursor")


# -- GET /v1/images/{id} ---------------------------------------------------------------------------

def test_given_an_indexed_image_when_fetched_then_the_document_comes_with_a_url_to_its_object():
    dog = document(7, "Dog")
    found = make_api(MemoryIndex([dog])).get_image(dog["id"])
    assert {k: v for k, v in found.items() if k != "image_url"} == dog
    assert found["image_url"].startswith("https://images.example/image-vaults/raw-image/7.jpg?")


def test_given_an_unknown_image_when_fetched_then_404_in_the_error_shape():
    assert answer(make_api().get_image, "f" * 40) == (404, {"error": "not_found",
                                                             "message": f"no image {'f' * 40!r} in the index"})


# -- GET /v1/stats/* -----------------------------------------------------------------------------

def test_given_stats_parameters_when_asked_then_they_reach_the_index_and_bad_ones_are_400():
    index = MemoryIndex([document(1, "Dog"), document(2, "Dog", "Cat")])
    api = make_api(index)
    assert api.tag_stats({"top": "1"}) == [{"tag": "Dog", "count": 2}]
    assert api.image_stats({"interval": "week", "min_confidence": "70"}) == [
        {"time": "2026-11-02T00:00:00Z", "count": 1}, {"time": "2026-11-03T00:00:00Z", "count": 1}]
    assert index.calls[-1] == {"interval": "week", "since": None, "until": None, "min_confidence": 70.0}
    assert answer(api.tag_stats, {"top": "0"})[0] == 400
    assert answer(api.image_stats, {"interval": "fortnight"})[1]["message"] == \
        "interval must be one of hour, day, week, month, not 'fortnight'"


# -- executions ------------------------------------------------------------------------------------

EXECUTIONS = [{"arn": f"arn:aws:states:us-east-1:123456789012:execution:image-tagging:e{n}", "name": f"e{n}",
               "status": "FAILED" if n % 2 else "SUCCEEDED", "key": f"k{n % 3}"} for n in range(6)]


def test_given_filters_when_listing_executions_then_they_reach_the_port_and_a_cursor_pages_on():
    executions = FakeExecutionLookup(EXECUTIONS)
    api = make_api(executions=executions)
    first = api.list_executions({"status": "FAILED", "limit": "2"})
    assert [e["name"] for e in first["executions"]] == ["e1", "e3"] and first["next_cursor"] is not None
    second = api.list_executions({"status": "FAILED", "limit": "2", "cursor": first["next_cursor"]})
    assert [e["name"] for e in second["executions"]] == ["e5"] and second["next_cursor"] is None
    assert api.list_executions({"key": "k0"})["executions"][0]["name"] == "e0"
    assert executions.calls[-1] == {"status": None, "key": "k0", "limit": 50, "cursor": None}


@pytest.mark.parametrize("params, error", [({"status": "DONE"}, "invalid_parameter"),
                                           ({"limit": "0"}, "invalid_parameter"),
                                           ({"limit": "1001"}, "invalid_parameter"),
                                           ({"cursor": "x"}, "invalid_cursor")])
def test_given_an_invalid_executions_parameter_when_listing_then_400(params, error):
    status, body = answer(make_api(executions=FakeExecutionLookup(EXECUTIONS)).list_executions, params)
    assert (status, body["error"]) == (400, error)


def test_given_an_unknown_execution_when_described_then_404():
    api = make_api(executions=FakeExecutionLookup(EXECUTIONS))
    assert api.get_execution("e2")["status"] == "SUCCEEDED"
    assert answer(api.get_execution, "nope") == (404, {"error": "not_found", "message": "no execution 'nope'"})


# -- dead letters ----------------------------------------------------------------------------------

def letter(message_id: str, queue: str, **body) -> DeadLetter:
    return DeadLetter(message_id=message_id, body=json.dumps(body), sent_at="2026-11-27T12:00:00.000Z", queue=queue)


def queues(resubmitted: list):
    workflow = FakeDeadLetterQueue("workflow", [letter("w1", "workflow", event={"detail": {}},
                                                       error="Autotagger.EmptyObject", cause="the object is empty",
                                                       execution_id="arn:e1")],
                                   resubmit=resubmitted.append)
    indexer = FakeDeadLetterQueue("indexer", [letter("i1", "indexer", KinesisBatchInfo={"shardId": "shardId-0"})])
    return workflow, indexer


def test_given_dead_letters_when_listed_then_each_queue_answers_with_the_reason_pulled_out():
    workflow, indexer = queues([])
    listed = make_api(queues=[workflow, indexer]).list_dead_letters({"limit": "5"})
    assert list(listed) == ["workflow", "indexer"]
    assert listed["workflow"][0]["reason"] == {"error": "Autotagger.EmptyObject", "cause": "the object is empty",
                                               "execution_id": "arn:e1", "failed_at": None}
    assert listed["indexer"][0]["body"] == {"KinesisBatchInfo": {"shardId": "shardId-0"}}
    assert workflow.list_calls == [(5, api_service.LIST_VISIBILITY_TIMEOUT_S)]


def test_given_message_ids_when_redriven_twice_then_each_runs_once_and_the_rest_is_reported():
    resubmitted: list = []
    api = make_api(queues=queues(resubmitted))
    body = json.dumps({"message_ids": ["w1", "i1", "gone"]})
    assert api.redrive(body) == {"redriven": ["w1"], "not_found": ["gone"], "not_redrivable": ["i1"]}
    assert api.redrive(body) == {"redriven": [], "not_found": ["w1", "gone"], "not_redrivable": ["i1"]}
    assert [m.message_id for m in resubmitted] == ["w1"]


def test_given_no_body_when_redriving_then_every_queue_is_redriven():
    resubmitted: list = []
    assert make_api(queues=queues(resubmitted)).redrive(None) == {"redriven": ["w1"], "not_found": [],
                                                                  "not_redrivable": ["i1"]}


@pytest.mark.parametrize("body, error", [(b"{not json", "invalid_body"), ('["w1"]', "invalid_body"),
                                         ('{"ids": ["w1"]}', "invalid_body"),
                                         ('{"message_ids": "w1"}', "invalid_parameter"),
                                         ('{"message_ids": [1]}', "invalid_parameter")])
def test_given_a_malformed_redrive_body_when_posted_then_400_and_nothing_is_redriven(body, error):
    resubmitted: list = []
    status, answered = answer(make_api(queues=queues(resubmitted)).redrive, body)
    assert (status, answered["error"], resubmitted) == (400, error, [])


# -- POST /v1/uploads ------------------------------------------------------------------------------

def test_given_a_large_image_when_an_upload_is_asked_then_the_ticket_binds_type_and_size():
    ticket = make_api().create_upload(json.dumps({"key": "raw-image/big.jpg", "content_type": "image/jpeg",
                                                  "size": 40 * 1024 * 1024}))
    assert ticket["method"] == "PUT" and ticket["key"] == "raw-image/big.jpg"
    assert ticket["headers"] == {"Content-Type": "image/jpeg", "Content-Length": str(40 * 1024 * 1024)}


@pytest.mark.parametrize("request_body, status, error", [
    ({"key": "a.jpg", "content_type": "image/jpeg", "size": api_service.MAX_UPLOAD_BYTES + 1}, 413, "too_large"),
    ({"key": "a.txt", "content_type": "text/plain", "size": 10}, 415, "unsupported_media_type"),
    ({"key": "", "content_type": "image/png", "size": 10}, 400, "invalid_parameter"),
    ({"key": "a\nb.png", "content_type": "image/png", "size": 10}, 400, "invalid_parameter"),
    ({"key": "é" * 513, "content_type": "image/png", "size": 10}, 400, "invalid_parameter"),
    ({"key": "a.png", "content_type": "image/png", "size": 0}, 400, "invalid_parameter"),
    ({"key": "a.png", "content_type": "image/png", "size": True}, 400, "invalid_parameter"),
    ({"key": "a.png", "content_type": "image/png", "size": "10"}, 400, "invalid_parameter"),
    ({"key": "a.png", "content_type": "image/png"}, 400, "invalid_parameter"),
    ({"key": "a.png", "content_type": "image/png", "size": 10, "acl": "public-read"}, 400, "invalid_body"),
])
def test_given_an_upload_request_out_of_bounds_when_posted_then_it_is_refused_with_its_status(request_body, status,
                                                                                              error):
    answered_status, answered = answer(make_api().create_upload, json.dumps(request_body))
    assert (answered_status, answered["error"]) == (status, error)


def test_given_no_body_when_an_upload_is_asked_then_400():
    assert answer(make_api().create_upload, None)[1]["error"] == "invalid_body"


# -- errors ----------------------------------------------------------------------------------------

def test_given_an_unexpected_failure_when_mapped_then_500_without_its_details():
    assert error_response(RuntimeError("password=hunter2")) == (
        500, {"error": "internal_error", "message": "the server failed to answer; the error is logged"})
    assert error_response(ApiError(413, "too_large", "x")) == (413, {"error": "too_large", "message": "x"})
    assert error_response(InvalidCursor("stale"))[0] == 400


# -- GET /v1/images: text and safe ----------------------------------------------------------------

def test_given_text_and_safe_when_searching_then_both_reach_the_index_and_narrow_the_answer():
    from tests.fakes import FakeImageIndex

    index = FakeImageIndex()
    sign = {**document(1, "Sign"), "text": "HARBOUR", "moderation": {"labels": [], "max_confidence": 0.0}}
    flagged = {**document(2, "Sign"), "text": "Harbour", "moderation": {"labels": [], "max_confidence": 75.0}}
    index.documents = {d["id"]: {**d, "sequencer": "01"} for d in (sign, flagged)}
    found = make_api(index).search_images({"text": ["harbour"], "safe": ["true"], "tag": ["sign"]})
    assert [image["key"] for image in found["images"]] == ["raw-image/1.jpg"]
    assert (index.search_calls[-1]["text"], index.search_calls[-1]["safe"]) == ("harbour", True)
    assert make_api(index).search_images({"text": ["HARBOUR"], "safe": ["false"]})["total"] == 2
    assert (index.search_calls[-1]["text"], index.search_calls[-1]["safe"]) == ("HARBOUR", False)
    assert make_api(index).search_images({"text": ["harbour"], "safe": ["True"]})["total"] == 1


def test_given_neither_text_nor_safe_when_searching_then_the_index_is_asked_as_before():
    index = MemoryIndex([document(1, "Dog")])  # an index without the new parameters still answers
    assert make_api(index).search_images({"text": [""], "safe": ["false"]})["total"] == 1


@pytest.mark.parametrize("params, fragment", [
    ({"safe": "yes"}, "safe must be true or false"),
    ({"safe": "1"}, "safe must be true or false"),
    ({"text": "?!"}, "text must hold a word"),
    ({"text": "x" * 201}, "text is 201 characters; at most 200"),
])
def test_given_an_invalid_text_or_safe_when_searching_then_400_names_it(params, fragment):
    status, body = answer(make_api().search_images, params)
    assert (status, body["error"]) == (400, "invalid_parameter")
    assert fragment in body["message"]
