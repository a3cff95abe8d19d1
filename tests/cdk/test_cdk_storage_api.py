"""The image bucket and the upload API, read from the synthesized template."""

from __future__ import annotations

from aws_cdk.assertions import Match

from autotagger.contracts import ACCEPTED_MEDIA_TYPES
from cdk.constructs import upload_api
from cdk.constructs.image_bucket import INCOMPLETE_UPLOAD_DAYS


def _bucket(synth):
    return synth.resource(synth.stack.storage.bucket)["Properties"]


def test_given_the_image_bucket_when_synthesized_then_all_public_access_is_blocked(dev):
    assert _bucket(dev)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }


def test_given_the_image_bucket_when_synthesized_then_objects_are_encrypted_at_rest(dev):
    rules = _bucket(dev)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")


def test_given_the_image_bucket_when_synthesized_then_its_policy_denies_requests_without_tls(dev):
    bucket_ref = dev.ref(dev.stack.storage.bucket)
    policies = [p["Properties"] for p in dev.resources("AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == bucket_ref]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)


def test_given_the_image_bucket_when_synthesized_then_it_sends_events_to_eventbridge(dev):
    dev.template.has_resource_properties("Custom::S3BucketNotifications", {
        "BucketName": dev.ref(dev.stack.storage.bucket),
        "NotificationConfiguration": {"EventBridgeConfiguration": {}},
    })


def test_given_the_image_bucket_when_synthesized_then_incomplete_multipart_uploads_are_aborted(dev):
    rules = _bucket(dev)["LifecycleConfiguration"]["Rules"]
    assert {"DaysAfterInitiation": INCOMPLETE_UPLOAD_DAYS} in [r.get("AbortIncompleteMultipartUpload") for r in rules]


def test_given_default_context_when_synthesized_then_the_image_bucket_is_retained_on_destroy(dev):
    assert dev.resource(dev.stack.storage.bucket)["DeletionPolicy"] == "RetainExceptOnCreate"
    assert dev.resource(dev.stack.storage.bucket)["UpdateReplacePolicy"] == "Retain"


def test_given_destroy_on_removal_when_synthesized_then_the_image_bucket_is_deleted_on_destroy(variant):
    assert variant.resource(variant.stack.storage.bucket)["DeletionPolicy"] == "Delete"


def test_given_the_api_when_synthesized_then_its_binary_media_types_are_the_accepted_images(dev):
    api = dev.resource(dev.stack.upload_api.api)["Properties"]
    assert api["BinaryMediaTypes"] == list(ACCEPTED_MEDIA_TYPES)


def test_given_the_api_when_synthesized_then_the_upload_path_is_v1_bucket_object(dev):
    api = dev.stack.upload_api
    stage = dev.resource(api.api.deployment_stage)["Properties"]
    method = dev.resource(api.method)["Properties"]
    assert method["ResourceId"] == dev.ref(api.method.resource)
    assert (f"/{stage['StageName']}{api.method.resource.path}", method["HttpMethod"]) == (
        f"/v1/{{{upload_api.BUCKET_PARAM}}}/{{{upload_api.OBJECT_PARAM}}}", "PUT")


def test_given_the_upload_method_when_synthesized_then_it_writes_to_s3_directly_without_lambda(dev):
    integration = dev.resource(dev.stack.upload_api.method)["Properties"]["Integration"]
    uri = integration["Uri"]["Fn::Join"][1]
    assert (integration["Type"], integration["IntegrationHttpMethod"], uri[-1]) == (
        "AWS", "PUT", f":s3:path/{{{upload_api.BUCKET_PARAM}}}/{{{upload_api.OBJECT_PARAM}}}")


def test_given_the_upload_method_when_synthesized_then_an_api_key_is_required(dev):
    assert dev.resource(dev.stack.upload_api.method)["Properties"]["ApiKeyRequired"] is True


def test_given_an_unsupported_content_type_when_uploading_then_api_gateway_has_no_template_and_never_passes_it_through(dev):
    integration = dev.resource(dev.stack.upload_api.method)["Properties"]["Integration"]
    assert (integration["PassthroughBehavior"], sorted(integration["RequestTemplates"])) == (
        "NEVER", sorted(ACCEPTED_MEDIA_TYPES))


def test_given_an_unsupported_content_type_when_refused_then_the_gateway_answers_415(dev):
    dev.template.has_resource_properties("AWS::ApiGateway::GatewayResponse", {
        "ResponseType": "UNSUPPORTED_MEDIA_TYPE",
        "StatusCode": upload_api.UNSUPPORTED_MEDIA_TYPE_STATUS,
        "RestApiId": dev.ref(dev.stack.upload_api.api),
    })


def test_given_the_integration_role_when_synthesized_then_it_may_only_put_objects_into_the_image_bucket(dev):
    statements = dev.role_statements(dev.stack.upload_api.integration_role)
    bucket_objects = {"Fn::Join": ["", [dev.arn(dev.stack.storage.bucket), "/*"]]}
    assert [(s["Action"], s["Resource"]) for s in statements] == [("s3:PutObject", bucket_objects)]


def test_given_another_bucket_in_the_path_when_s3_denies_the_put_then_the_caller_gets_403(dev):
    responses = dev.resource(dev.stack.upload_api.method)["Properties"]["Integration"]["IntegrationResponses"]
    refused = upload_api.REFUSED_BUCKET_STATUS
    assert {"SelectionPattern": refused, "StatusCode": refused} in [
        {k: r.get(k) for k in ("SelectionPattern", "StatusCode")} for r in responses]


def test_given_a_key_prefix_when_uploading_then_objects_land_under_the_prefix_only(variant):
    prefix = variant.stack.config.key_prefix
    integration = variant.resource(variant.stack.upload_api.method)["Properties"]["Integration"]
    statements = variant.role_statements(variant.stack.upload_api.integration_role)
    assert integration["Uri"]["Fn::Join"][1][-1].endswith(f"{{{upload_api.BUCKET_PARAM}}}/{prefix}{{{upload_api.OBJECT_PARAM}}}")
    assert statements[0]["Resource"] == {"Fn::Join": ["", [variant.arn(variant.stack.storage.bucket), f"/{prefix}*"]]}


def test_given_the_usage_plan_when_synthesized_then_it_throttles_with_the_configured_rate_and_burst(dev):
    api = dev.stack.upload_api
    dev.template.has_resource_properties("AWS::ApiGateway::UsagePlan", {
        "Throttle": {"RateLimit": dev.stack.resolve(api.rate_limit), "BurstLimit": dev.stack.resolve(api.burst_limit)},
        "ApiStages": Match.array_with([Match.object_like({"ApiId": dev.ref(dev.stack.upload_api.api)})]),
    })


def test_given_the_usage_plan_when_synthesized_then_the_api_key_belongs_to_it(dev):
    dev.template.has_resource_properties("AWS::ApiGateway::UsagePlanKey", {
        "KeyId": dev.ref(dev.stack.upload_api.api_key),
        "UsagePlanId": dev.ref(dev.stack.upload_api.usage_plan),
        "KeyType": "API_KEY",
    })


def test_given_the_stage_when_synthesized_then_requests_are_access_logged(dev):
    stage = dev.resource(dev.stack.upload_api.api.deployment_stage)["Properties"]
    assert stage["AccessLogSetting"]["DestinationArn"] == dev.arn(dev.stack.upload_api.access_logs)


def test_given_the_stage_when_synthesized_then_every_method_is_throttled(dev):
    api = dev.stack.upload_api
    settings = dev.resource(api.api.deployment_stage)["Properties"]["MethodSettings"]
    assert {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": dev.stack.resolve(api.rate_limit),
            "ThrottlingBurstLimit": dev.stack.resolve(api.burst_limit)}.items() <= settings[0].items()
