"""The API Lambda (functions/api/handler.py) on API Gateway REST proxy events, against Step
Functions, SQS, S3 and Kinesis in moto and the index in osmem-server. Every answer is also checked
against the response schema the OpenAPI document declares for its route and status."""

from __future__ import annotations

import json

import pytest
import requests
from api_lambda_support import BUCKET, signed_headers

from autotagger.api.aws import redrive_name
from autotagger.api.service import MAX_UPLOAD_BYTES
from autotagger.domain.documents import document_id

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

JPEG = b"\xff\xd8\xff\xe0" + b"pixels" * 20


# -- images ----------------------------------------------------------------------------------------

def test_given_images_tagged_by_the_workflow_when_searched_then_only_those_with_every_tag_come_back(deployment):
    execution = deployment.run(deployment.upload("raw-image/phone.jpg", JPEG))
    assert execution["status"] == "SUCCEEDED" and deployment.index_stream() == 1
    deployment.index_record("raw-image/cat.png", ("Cat", 97.0), ("Animal", 96.0))
    status, found = deployment.call("GET", "/v1/images", {"tag": ["Mobile Phone"]}, template="/v1/images")
    assert status == 200
    assert (found["total"], [i["key"] for i in found["images"]]) == (1, ["raw-image/phone.jpg"])
    assert found["next_cursor"] is None
    status, found = deployment.call("GET", "/v1/images", {"tag": ["Cat", "Animal"], "limit": ["1"]},
                                    template="/v1/images")
    assert [i["key"] for i in found["images"]] == ["raw-image/cat.png"]
    assert deployment.call("GET", "/v1/images", {"tag": ["Cat", "Dog"]})[1]["total"] == 0


def test_given_an_indexed_image_when_fetched_then_its_url_serves_the_object_bytes(deployment):
    deployment.run(deployment.upload("raw-image/phone.jpg", JPEG))
    deployment.index_stream()
    image_id = document_id(BUCKET, "raw-image/phone.jpg")
    status, image = deployment.call("GET", f"/v1/images/{image_id}", template="/v1/images/{id}")
    assert (status, image["id"], image["key"]) == (200, image_id, "raw-image/phone.jpg")
    assert "X-Amz-Expires=300" in image["image_url"]
    fetched = requests.get(image["image_url"], timeout=10)
    assert (fetched.status_code, fetched.content) == (200, JPEG)


def test_given_an_unknown_image_when_fetched_then_404_in_the_error_shape(deployment):
    status, body = deployment.call("GET", "/v1/images/" + "0" * 40, template="/v1/images/{id}")
    assert (status, body["error"]) == (404, "not_found")


def test_given_indexed_images_when_stats_are_asked_then_tags_and_days_are_counted(deployment):
    deployment.index_record("a.jpg", ("Dog", 97.0), event_time="2026-11-24T08:00:00Z")
    deployment.index_record("b.jpg", ("Dog", 91.0), ("Cat", 90.0), event_time="2026-11-25T08:00:00Z")
    status, tags = deployment.call("GET", "/v1/stats/tags", {"top": ["5"]}, template="/v1/stats/tags")
    assert (status, tags) == (200, [{"tag": "Dog", "count": 2}, {"tag": "Cat", "count": 1}])
    status, days = deployment.call("GET", "/v1/stats/images", {"interval": ["day"]}, template="/v1/stats/images")
    assert [d["count"] for d in days] == [1, 1] and days[0]["time"].startswith("2026-11-24")


@pytest.mark.parametrize("path, query, error", [
    ("/v1/images", {"limit": ["501"]}, "invalid_parameter"),
    ("/v1/images", {"since": ["last tuesday"]}, "invalid_parameter"),
    ("/v1/stats/images", {"interval": ["fortnight"]}, "invalid_parameter"),
    ("/v1/executions", {"status": ["DONE"]}, "invalid_parameter"),
    ("/v1/executions", {"cursor": ["not-a-cursor"]}, "invalid_cursor"),
    ("/v1/dead-letters", {"limit": ["0"]}, "invalid_parameter"),
])
def test_given_an_invalid_parameter_when_called_then_400_in_the_error_shape(deployment, path, query, error):
    status, body = deployment.call("GET", path, query, template=path)
    assert (status, body["error"]) == (400, error) and body["message"]


def test_given_an_unknown_route_when_called_then_404_in_the_error_shape(deployment):
    assert deployment.call("GET", "/v1/nothing-here") == (404, {"error": "not_found",
                                                               "message": "no route GET /v1/nothing-here"})


def test_given_an_index_that_does_not_answer_when_searched_then_500_in_the_error_shape(deployment, monkeypatch):
    from autotagger.api import aws as api_aws

    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    api_aws.reset_service()
    status, body = deployment.call("GET", "/v1/images", template="/v1/images")
    assert (status, body) == (500, {"error": "internal_error",
                                    "message": "the server failed to answer; the error is logged"})


# -- executions ------------------------------------------------------------------------------------

def test_given_a_succeeded_and_a_failed_execution_when_listed_then_filters_and_cursor_find_them(deployment):
    deployment.run(deployment.upload("raw-image/phone.jpg", JPEG), name="ok-1")
    deployment.run(deployment.upload("raw-image/empty.jpg", b""), name="empty-1")
    deployment.run(deployment.upload("raw-image/phone2.jpg", JPEG), name="ok-2")
    status, everything = deployment.call("GET", "/v1/executions", template="/v1/executions")
    assert (status, [e["name"] for e in everything["executions"]]) == (200, ["ok-2", "empty-1", "ok-1"])
    failed = deployment.call("GET", "/v1/executions", {"status": ["FAILED"]}, template="/v1/executions")[1]
    # ListExecutions has no error or cause: the adapter describes the failed ones, as the local list shows them
    assert [(e["name"], e["error"]) for e in failed["executions"]] == [("empty-1", "Autotagger.EmptyObject")]
    assert "0 bytes" in failed["executions"][0]["cause"]
    by_key = deployment.call("GET", "/v1/executions", {"key": ["raw-image/phone.jpg"]})[1]
    assert [e["name"] for e in by_key["executions"]] == ["ok-1"]
    walked, query = [], {"limit": ["1"]}
    while True:
        page = deployment.call("GET", "/v1/executions", query, template="/v1/executions")[1]
        walked += [e["name"] for e in page["executions"]]
        if page["next_cursor"] is None:
            break
        query = {"limit": ["1"], "cursor": [page["next_cursor"]]}
    assert walked == ["ok-2", "empty-1", "ok-1"]


def test_given_a_failed_execution_when_described_then_the_history_shows_the_state_that_failed(deployment):
    deployment.run(deployment.upload("raw-image/empty.jpg", b""), name="empty-1")
    status, detail = deployment.call("GET", "/v1/executions/empty-1", template="/v1/executions/{name}")
    assert (status, detail["status"], detail["error"]) == (200, "FAILED", "Autotagger.EmptyObject")
    assert detail["failed_state"] == "RejectEmptyObject"
    assert detail["input"]["detail"]["object"]["key"] == "raw-image/empty.jpg"
    entered = [e["stateEnteredEventDetails"]["name"] for e in detail["history"] if "stateEnteredEventDetails" in e]
    assert entered[:2] == ["RouteEvent", "CheckObject"] and "RejectEmptyObject" in entered
    assert detail["history"][-1]["type"] == "ExecutionFailed"


def test_given_an_unknown_execution_when_described_then_404(deployment):
    assert deployment.call("GET", "/v1/executions/never-ran", template="/v1/executions/{name}")[0] == 404


# -- dead letters ----------------------------------------------------------------------------------

def test_given_a_workflow_dead_letter_when_listed_then_it_shows_its_reason_and_stays_in_the_queue(deployment):
    execution = deployment.run(deployment.upload("raw-image/empty.jpg", b""), name="empty-1")
    status, letters = deployment.call("GET", "/v1/dead-letters", template="/v1/dead-letters")
    assert (status, sorted(letters)) == (200, ["indexer", "rule", "workflow"])
    [letter] = letters["workflow"]
    assert letter["reason"]["error"] == "Autotagger.EmptyObject"
    assert letter["reason"]["execution_id"] == execution["executionArn"]
    assert letter["body"]["event"]["detail"]["object"]["key"] == "raw-image/empty.jpg"
    # listing released what it received: the message is there for the next reader at once
    assert deployment.queue_ids("workflow") == {letter["message_id"]}


def test_given_a_dead_letter_when_redriven_twice_then_one_execution_runs_and_the_message_is_gone(deployment):
    deployment.run(deployment.upload("raw-image/empty.jpg", b""), name="empty-1")
    [message_id] = deployment.queue_ids("workflow")
    body = {"message_ids": [message_id]}
    status, first = deployment.call("POST", "/v1/dead-letters/redrive", body=body, template="/v1/dead-letters/redrive")
    assert (status, first) == (200, {"redriven": [message_id], "not_found": [], "not_redrivable": []})
    status, second = deployment.call("POST", "/v1/dead-letters/redrive", body=body, template="/v1/dead-letters/redrive")
    assert (status, second) == (200, {"redriven": [], "not_found": [message_id], "not_redrivable": []})
    [rerun] = deployment.executions_named(redrive_name(message_id))
    rerun = deployment.wait(rerun["executionArn"])
    assert json.loads(rerun["input"])["detail"]["object"]["key"] == "raw-image/empty.jpg"
    # the re-run failed the same way and left its own dead letter; the redriven one is gone
    assert message_id not in deployment.queue_ids("workflow")


def test_given_a_redrive_that_died_before_deleting_when_redriven_again_then_nothing_runs_twice(deployment):
    deployment.run(deployment.upload("raw-image/empty.jpg", b""), name="empty-1")
    [message_id] = deployment.queue_ids("workflow")
    [letter] = deployment.call("GET", "/v1/dead-letters")[1]["workflow"]
    deployment.sfn.start_execution(stateMachineArn=deployment.state_machine_arn, name=redrive_name(message_id),
                                   input=json.dumps(letter["body"]["event"]))  # started; then the Lambda died
    status, redriven = deployment.call("POST", "/v1/dead-letters/redrive", body={"message_ids": [message_id]})
    assert (status, redriven["redriven"]) == (200, [message_id])
    assert len(deployment.executions_named(redrive_name(message_id))) == 1
    assert message_id not in deployment.queue_ids("workflow")


def test_given_a_redrive_of_everything_when_its_reruns_fail_again_then_their_new_letters_wait(deployment):
    for number in range(3):
        deployment.run(deployment.upload(f"raw-image/empty-{number}.jpg", b""), name=f"empty-{number}")
    before = deployment.queue_ids("workflow")
    status, result = deployment.call("POST", "/v1/dead-letters/redrive", template="/v1/dead-letters/redrive")
    assert (status, sorted(result["redriven"])) == (200, sorted(before))
    deployment.settle()
    after = deployment.queue_ids("workflow")
    assert len(after) == 3 and not after & before  # one new letter per re-run, none redriven in a loop


def test_given_an_event_the_rule_could_not_deliver_when_redriven_then_the_workflow_runs_on_it(deployment):
    event = deployment.upload("raw-image/late.jpg", JPEG)
    message_id = deployment.sqs.send_message(QueueUrl=deployment.queues["rule"], MessageBody=json.dumps(event),
                                             MessageAttributes={"ERROR_CODE": {"DataType": "String",
                                                                               "StringValue": "ThrottlingException"}},
                                             )["MessageId"]
    [letter] = deployment.call("GET", "/v1/dead-letters", template="/v1/dead-letters")[1]["rule"]
    assert letter["body"] == event
    status, result = deployment.call("POST", "/v1/dead-letters/redrive", body={"message_ids": [message_id]})
    assert (status, result["redriven"]) == (200, [message_id])
    [rerun] = deployment.executions_named(redrive_name(message_id))
    assert deployment.wait(rerun["executionArn"])["status"] == "SUCCEEDED"
    assert deployment.queue_ids("rule") == set()


def test_given_an_indexer_dead_letter_when_everything_is_redriven_then_it_is_kept(deployment):
    batch_info = {"requestContext": {"condition": "RetryAttemptsExhausted"},
                  "KinesisBatchInfo": {"shardId": "shardId-000000000000", "batchSize": 1}}
    message_id = deployment.sqs.send_message(QueueUrl=deployment.queues["indexer"],
                                             MessageBody=json.dumps(batch_info))["MessageId"]
    status, result = deployment.call("POST", "/v1/dead-letters/redrive", template="/v1/dead-letters/redrive")
    assert (status, result) == (200, {"redriven": [], "not_found": [], "not_redrivable": [message_id]})
    assert deployment.queue_ids("indexer") == {message_id}


def test_given_a_body_that_is_not_json_when_redriving_then_400(deployment):
    status, body = deployment.call("POST", "/v1/dead-letters/redrive", body="{oops",
                                   template="/v1/dead-letters/redrive")
    assert (status, body["error"]) == (400, "invalid_body")


# -- uploads ---------------------------------------------------------------------------------------

def test_given_an_upload_ticket_when_the_image_is_put_through_it_then_it_is_in_the_bucket(deployment):
    request = {"key": "raw-image/large.jpg", "content_type": "image/jpeg", "size": len(JPEG)}
    status, ticket = deployment.call("POST", "/v1/uploads", body=request, template="/v1/uploads")
    assert (status, ticket["method"], ticket["key"]) == (200, "PUT", "raw-image/large.jpg")
    assert ticket["headers"] == {"Content-Type": "image/jpeg", "Content-Length": str(len(JPEG))}
    # S3 checks every signed header: another type or body length breaks the signature (403)
    assert {"content-type", "content-length", "host"} <= signed_headers(ticket["url"])
    put = requests.put(ticket["url"], data=JPEG, headers=ticket["headers"], timeout=10)
    assert put.status_code == 200
    stored = deployment.s3.head_object(Bucket=BUCKET, Key="raw-image/large.jpg")
    assert (stored["ContentType"], stored["ContentLength"]) == ("image/jpeg", len(JPEG))


@pytest.mark.parametrize("request_body, status, error", [
    ({"key": "huge.jpg", "content_type": "image/jpeg", "size": MAX_UPLOAD_BYTES + 1}, 413, "too_large"),
    ({"key": "notes.txt", "content_type": "text/plain", "size": 10}, 415, "unsupported_media_type"),
    ({"content_type": "image/jpeg", "size": 10}, 400, "invalid_parameter"),
])
def test_given_an_upload_out_of_bounds_when_asked_then_it_is_refused(deployment, request_body, status, error):
    answered, body = deployment.call("POST", "/v1/uploads", body=request_body, template="/v1/uploads")
    assert (answered, body["error"]) == (status, error)
