"""The read API on AWS: the OpenAPI document's routes on the upload REST API, the Lambda behind
them, its network path and its least-privilege role, read back from the synthesized template."""

from __future__ import annotations

import json

import pytest
from asset_probe import autotagger_modules_loaded

from autotagger import contracts
from autotagger.api import aws as api_aws
from cdk import lambda_bundle
from cdk.constructs import read_api, search_domain, upload_api

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _routes(synth) -> dict[tuple[str, str], dict]:
    """(stage + resource path, METHOD) -> method properties, rebuilt from the template's resource tree."""
    resources = synth.resources("AWS::ApiGateway::Resource")
    api_id = synth.logical_id(synth.stack.upload_api.api)

    def path_of(parent) -> str:
        if parent == {"Fn::GetAtt": [api_id, "RootResourceId"]}:
            return ""
        props = resources[parent["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    routes = {}
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        routes[(f"/{upload_api.STAGE_NAME}{path_of(props['ResourceId'])}", props["HttpMethod"])] = props
    return routes


def _document_operations() -> set[tuple[str, str]]:
    document = json.loads(read_api.OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
    # What the document deploys: its local-only operations (`x-runtimes: ["local"]`) are left out.
    return {(path, method.upper()) for path, item in document["paths"].items() for method in METHODS
            if method in item and item[method].get("x-runtimes") != ["local"]}


def _function(synth) -> dict:
    return synth.resource(synth.stack.read_api.function)["Properties"]


def _statements_by_action(synth) -> dict[str, object]:
    found = {}
    for statement in synth.role_statements(synth.stack.read_api.role):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert statement["Effect"] == "Allow" and "Condition" not in statement
            found[action] = statement["Resource"]
    return found


def test_given_the_openapi_document_when_synthesized_then_each_read_operation_is_routed_to_the_lambda_with_the_key(dev):
    routes = _routes(dev)
    function_arn = dev.arn(dev.stack.read_api.function)
    upload = {route for route, props in routes.items() if props["Integration"]["Type"] == "AWS"}
    expected = {op for op in _document_operations() if op[0] not in {path for path, _ in upload}}

    served = {route for route, props in routes.items() if props["Integration"]["Type"] == "AWS_PROXY"}
    assert served == expected and len(expected) >= 9
    for route in served:
        integration = routes[route]["Integration"]
        uri = json.dumps(integration["Uri"])
        assert (integration["IntegrationHttpMethod"], json.dumps(function_arn) in uri) == ("POST", True), route
        assert routes[route]["ApiKeyRequired"] is True, route


def test_given_the_upload_route_when_synthesized_then_it_stays_the_s3_integration(dev):
    routes = _routes(dev)
    assert routes[(read_api.UPLOAD_PATH, upload_api.UPLOAD_METHOD)]["Integration"]["Type"] == "AWS"


def test_given_a_path_parameter_in_the_document_when_routed_then_api_gateway_requires_it(dev):
    routes = _routes(dev)
    for path, method, _ in read_api.lambda_routes():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        parameters = routes[(path, method)].get("RequestParameters", {})
        assert all(parameters.get(f"method.request.path.{name}") is True for name in names), path


def test_given_the_read_routes_when_synthesized_then_they_share_the_upload_usage_plan_and_its_stage(dev):
    (plan,) = dev.resources("AWS::ApiGateway::UsagePlan").values()
    stages = plan["Properties"]["ApiStages"]
    assert [s["ApiId"] for s in stages] == [dev.ref(dev.stack.upload_api.api)]
    assert len(dev.resources("AWS::ApiGateway::RestApi")) == 1


def test_given_the_read_lambda_when_synthesized_then_it_runs_the_api_handler_on_python_3_13_arm64(dev):
    function = _function(dev)
    assert (function["Runtime"], function["Architectures"], function["Handler"]) == (
        lambda_bundle.RUNTIME.name, [lambda_bundle.ARCHITECTURE.name], lambda_bundle.HANDLER)
    assert function["Timeout"] == upload_api.INTEGRATION_TIMEOUT.to_seconds()
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_given_the_read_lambda_asset_when_bundled_then_it_carries_the_api_handler_and_its_dependencies(dev):
    asset = dev.outdir / f"asset.{_function(dev)['Code']['S3Key'].split('.')[0]}"
    assert (asset / "handler.py").read_bytes() == (read_api.FUNCTION_DIR / "handler.py").read_bytes()
    assert (asset / "autotagger" / "api" / "service.py").is_file()
    assert (asset / "aws_lambda_powertools").is_dir() and (asset / "pydantic").is_dir()
    assert not (asset / "autotagger" / "server").exists()  # the local server stays out of the asset


def test_given_the_read_lambda_asset_when_its_handler_wires_the_service_then_all_core_code_comes_from_the_asset(
        dev, tmp_path):
    """The `autotagger` code of the asset is complete on its own: the handler and what it imports on the
    first request (the service, the index adapters) load from the asset (the wheels are for arm64/3.13,
    so third-party packages come from this virtualenv instead)."""
    asset = dev.outdir / f"asset.{_function(dev)['Code']['S3Key'].removesuffix('.zip')}"
    core_only = tmp_path / "core"
    for path in [asset / "handler.py", *asset.joinpath("autotagger").rglob("*")]:
        if path.is_file():
            target = core_only / path.relative_to(asset)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    loaded, outside = autotagger_modules_loaded(core_only, tmp_path, "import autotagger.api.service, autotagger.index, autotagger.index.opensearch; ")
    assert ("autotagger.api.service" in loaded, outside) == (True, {})


def test_given_the_read_lambda_when_synthesized_then_it_is_told_every_resource_the_service_reads(dev):
    variables = _function(dev)["Environment"]["Variables"]
    stack = dev.stack
    queues = {api_aws.DEAD_LETTER_QUEUE_URL_ENVS[name.lower()]: dev.ref(queue)
              for name, queue in stack.dead_letters.all.items()}
    assert set(queues) == set(api_aws.DEAD_LETTER_QUEUE_URL_ENVS.values())
    assert {k: variables[k] for k in queues} == queues
    assert variables[api_aws.STATE_MACHINE_ARN_ENV] == dev.ref(stack.workflow.state_machine)
    assert variables[api_aws.IMAGE_BUCKET_ENV] == dev.ref(stack.storage.bucket)
    assert variables[contracts.INDEX_NAME_ENV] == contracts.INDEX_NAME
    assert variables[contracts.OPENSEARCH_ENDPOINT_ENV] == _function_env_of_indexer(dev)


def _function_env_of_indexer(synth):
    return synth.resource(synth.stack.indexer.function)["Properties"]["Environment"]["Variables"][
        contracts.OPENSEARCH_ENDPOINT_ENV]


def test_given_the_read_role_when_synthesized_then_it_may_do_exactly_what_the_function_readme_lists(dev):
    stack = dev.stack
    granted = _statements_by_action(dev)
    executions = json.dumps(granted["states:DescribeExecution"])
    assert granted["states:ListExecutions"] == granted["states:StartExecution"] == dev.ref(stack.workflow.state_machine)
    assert granted["states:GetExecutionHistory"] == granted["states:DescribeExecution"]
    assert ":execution:" in executions and json.dumps(
        {"Fn::GetAtt": [dev.logical_id(stack.workflow.state_machine), "Name"]}) in executions
    queues = sorted((dev.arn(q) for q in stack.dead_letters.all.values()), key=json.dumps)
    for action in read_api.QUEUE_ACTIONS:
        assert sorted(granted[action], key=json.dumps) == queues
    objects = {"Fn::Join": ["", [dev.arn(stack.storage.bucket), f"/{stack.config.key_prefix}*"]]}
    assert granted["s3:GetObject"] == granted["s3:PutObject"] == objects
    for action in search_domain.READER_HTTP_ACTIONS:
        assert granted[action] == {"Fn::Join": ["", [dev.arn(stack.search.domain), "/*"]]}
    assert set(granted) == {*read_api.STATE_MACHINE_ACTIONS, *read_api.EXECUTION_READ_ACTIONS,
                            *read_api.QUEUE_ACTIONS, *read_api.OBJECT_ACTIONS, *search_domain.READER_HTTP_ACTIONS,
                            "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert not {"es:ESHttpPut", "es:ESHttpDelete", "s3:DeleteObject", "sqs:SendMessage"} & set(granted)


def test_given_the_read_role_when_deployed_then_opensearch_maps_it_to_a_read_only_role(dev):
    mappings = [m["Properties"] for m in dev.resources("Custom::OpenSearchRoleMapping").values()]
    (reader,) = [m for m in mappings if m["BackendRoleArn"] == dev.arn(dev.stack.read_api.role)]
    assert (reader["RoleName"], reader["IndexPatterns"]) == (
        search_domain.READER_ROLE_NAME, [f"{contracts.INDEX_NAME}*"])
    assert (reader["ClusterPermissions"], reader["IndexActions"]) == (
        list(search_domain.READER_CLUSTER_PERMISSIONS), list(search_domain.READER_INDEX_ACTIONS))
    writes = {"crud", "write", "index", "delete", "create_index", "manage", "indices_all"}
    assert not writes & set(reader["IndexActions"])
    assert not any(p.endswith("/put") or "write" in p for p in reader["ClusterPermissions"] + reader["IndexActions"])


@pytest.mark.parametrize("name", sorted(read_api.ENDPOINT_SERVICES))
def test_given_no_nat_when_the_read_lambda_calls_aws_then_an_interface_endpoint_in_its_subnets_serves_it(dev, name):
    stack = dev.stack
    endpoint = dev.resource(stack.read_api.endpoints[name])["Properties"]
    service = read_api.ENDPOINT_SERVICES[name].short_name
    assert json.dumps(endpoint["ServiceName"]).endswith(f'.{service}"]]}}')
    assert (endpoint["VpcEndpointType"], endpoint["PrivateDnsEnabled"]) == ("Interface", True)
    assert endpoint["SubnetIds"] == _function(dev)["VpcConfig"]["SubnetIds"] == [
        dev.ref(s) for s in stack.network.vpc.isolated_subnets]
    (endpoint_group,) = endpoint["SecurityGroupIds"]
    function_group = _function(dev)["VpcConfig"]["SecurityGroupIds"][0]
    ingress = [r["Properties"] for r in dev.resources("AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == endpoint_group]
    assert [(r["SourceSecurityGroupId"], r["FromPort"]) for r in ingress] == [(function_group, 443)]


def test_given_the_read_lambda_when_synthesized_then_it_may_reach_the_opensearch_domain_over_https(dev):
    function_group = _function(dev)["VpcConfig"]["SecurityGroupIds"][0]
    domain_group = dev.resource(dev.stack.search.security_group)
    domain_group_id = {"Fn::GetAtt": [dev.logical_id(dev.stack.search.security_group), "GroupId"]}
    assert domain_group is not None
    ingress = [r["Properties"] for r in dev.resources("AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == domain_group_id]
    assert (function_group, 443) in [(r["SourceSecurityGroupId"], r["FromPort"]) for r in ingress]


def test_given_the_stack_when_synthesized_then_it_outputs_the_v1_base_url_of_the_api(dev):
    output = dev.json["Outputs"]["ApiUrl"]["Value"]["Fn::Join"][1]
    assert output[:2] == ["https://", dev.ref(dev.stack.upload_api.api)]
    assert output[-1] == read_api.API_BASE


class _RecordingService:
    """Stands in for `ReadApi`: records which operation a request reached, then fails it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        def operation(*args, **kwargs):
            self.calls.append(name)
            raise RuntimeError("recorded")
        return operation


def test_given_api_gateway_events_for_each_routed_method_when_handled_then_each_reaches_its_operation(dev, monkeypatch):
    """The proxy event of the execute-api URL carries the path without the stage (`/images`), as
    API Gateway sends it; every routed method must reach a service operation, not the 404."""
    from functions.api import handler

    recorder = _RecordingService()
    monkeypatch.setattr(handler, "current_service", lambda: recorder)
    for (path, method), props in sorted(_routes(dev).items()):
        if props["Integration"]["Type"] != "AWS_PROXY":
            continue
        concrete = path.replace("{id}", "a1").replace("{name}", "n1")
        under_stage = concrete[len(read_api.API_BASE):]
        event = {"resource": path[len(read_api.API_BASE):], "path": under_stage, "httpMethod": method,
                 "headers": {}, "multiValueHeaders": {}, "queryStringParameters": None,
                 "multiValueQueryStringParameters": None, "pathParameters": None,
                 "body": "{}" if method == "POST" else None,
                 "isBase64Encoded": False, "requestContext": {"stage": upload_api.STAGE_NAME, "path": concrete,
                                                              "httpMethod": method, "requestId": "r1"}}
        before = len(recorder.calls)
        response = handler.app.resolve(event, None)
        assert (response["statusCode"], len(recorder.calls)) == (500, before + 1), (method, path, response)
    assert len(set(recorder.calls)) == len(recorder.calls) == len(list(read_api.lambda_routes()))
