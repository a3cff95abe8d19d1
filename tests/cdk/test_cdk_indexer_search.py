"""The indexer Lambda, its Kinesis event source, the VPC, the bastion and the OpenSearch domain."""

from __future__ import annotations

from autotagger import contracts
from autotagger.contracts import INDEX_NAME
from cdk import lambda_bundle
from cdk.constructs import indexer, network, search_domain


def _function(synth) -> dict:
    return synth.resource(synth.stack.indexer.function)["Properties"]


def _mapping(synth) -> dict:
    (mapping,) = synth.resources("AWS::Lambda::EventSourceMapping").values()
    return mapping["Properties"]


def _domain(synth) -> dict:
    return synth.resource(synth.stack.search.domain)["Properties"]


def test_given_the_indexer_when_synthesized_then_it_runs_python_3_13_on_arm64(dev):
    function = _function(dev)
    assert (function["Runtime"], function["Architectures"]) == (
        lambda_bundle.RUNTIME.name, [lambda_bundle.ARCHITECTURE.name])
    assert lambda_bundle.RUNTIME.name == f"python{lambda_bundle.PYTHON_VERSION}"  # the Python the wheels are for


def test_given_the_indexer_when_synthesized_then_its_handler_is_the_bundled_functions_indexer_handler(dev):
    assert _function(dev)["Handler"] == lambda_bundle.HANDLER


def test_given_the_indexer_when_synthesized_then_it_is_told_the_opensearch_endpoint_and_index(dev):
    environment = _function(dev)["Environment"]["Variables"]
    endpoint = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [dev.logical_id(dev.stack.search.domain), "DomainEndpoint"]}]]}
    assert (environment["OPENSEARCH_ENDPOINT"], environment["INDEX_NAME"]) == (endpoint, INDEX_NAME)


def test_given_the_indexer_when_synthesized_then_it_is_traced_with_xray(dev):
    assert _function(dev)["TracingConfig"] == {"Mode": "Active"}


def test_given_the_indexer_when_synthesized_then_it_runs_in_the_private_subnets(dev):
    subnets = _function(dev)["VpcConfig"]["SubnetIds"]
    private = [dev.ref(s) for s in dev.stack.network.vpc.isolated_subnets]
    assert subnets == private


def test_given_the_event_source_when_synthesized_then_it_reads_the_tag_stream_in_bounded_batches(dev):
    mapping = _mapping(dev)
    assert (mapping["EventSourceArn"], mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (
        dev.arn(dev.stack.stream.stream), contracts.INDEXER_BATCH_SIZE, indexer.MAX_BATCHING_WINDOW.to_seconds())


def test_given_a_failing_batch_when_retried_then_it_is_bisected_with_bounded_retries_and_age(dev):
    mapping = _mapping(dev)
    assert (mapping["BisectBatchOnFunctionError"], mapping["MaximumRetryAttempts"],
            mapping["MaximumRecordAgeInSeconds"]) == (
        True, contracts.INDEXER_RETRY_ATTEMPTS, indexer.MAX_RECORD_AGE.to_seconds())


def test_given_the_event_source_when_synthesized_then_the_handler_reports_batch_item_failures(dev):
    assert _mapping(dev)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_given_exhausted_retries_when_a_batch_is_dropped_then_it_is_described_in_the_indexer_queue(dev):
    assert _mapping(dev)["DestinationConfig"] == {
        "OnFailure": {"Destination": dev.arn(dev.stack.dead_letters.indexer)}}


def test_given_the_event_source_when_synthesized_then_each_shard_is_read_in_parallel(dev):
    assert _mapping(dev)["ParallelizationFactor"] == indexer.PARALLELIZATION_FACTOR


def test_given_the_indexer_role_when_synthesized_then_it_signs_http_requests_to_this_domain_only(dev):
    es = [s for s in dev.role_statements(dev.stack.indexer_role)
          if any(a.startswith("es:") for a in s["Action"])]
    domain_paths = dev.stack.resolve(f"{dev.stack.search.domain.domain_arn}/*")
    assert [(sorted(s["Action"]), s["Resource"]) for s in es] == [
        (sorted(search_domain.INDEXER_HTTP_ACTIONS), domain_paths)]


def test_given_the_domain_when_synthesized_then_it_runs_the_chosen_opensearch_version(dev):
    assert _domain(dev)["EngineVersion"] == search_domain.ENGINE_VERSION.version


def test_given_the_domain_when_synthesized_then_data_is_encrypted_at_rest_and_between_nodes(dev):
    domain = _domain(dev)
    assert (domain["EncryptionAtRestOptions"], domain["NodeToNodeEncryptionOptions"]) == (
        {"Enabled": True}, {"Enabled": True})


def test_given_the_domain_when_synthesized_then_it_accepts_https_only(dev):
    assert _domain(dev)["DomainEndpointOptions"]["EnforceHTTPS"] is True


def test_given_the_domain_when_synthesized_then_fine_grained_access_control_uses_a_generated_master_password(dev):
    security = _domain(dev)["AdvancedSecurityOptions"]
    secret = dev.resource(dev.stack.search.master_user)["Properties"]
    assert (security["Enabled"], security["InternalUserDatabaseEnabled"]) == (True, True)
    assert "{{resolve:secretsmanager:" in str(security["MasterUserOptions"]["MasterUserPassword"])
    assert secret["GenerateSecretString"]["GenerateStringKey"] == "password"


def test_given_the_domain_when_synthesized_then_it_lives_in_the_private_subnets(dev):
    vpc_options = _domain(dev)["VPCOptions"]
    assert vpc_options["SubnetIds"] == [dev.ref(s) for s in dev.stack.network.vpc.isolated_subnets][:1]


def test_given_the_dev_profile_when_synthesized_then_the_domain_is_one_small_node(dev):
    cluster = _domain(dev)["ClusterConfig"]
    assert (cluster["InstanceCount"], cluster["InstanceType"], cluster["DedicatedMasterEnabled"]) == (
        search_domain.DEV_DATA_NODES, dev.stack.config.dev_instance_type, False)


def test_given_the_prod_profile_when_synthesized_then_the_domain_is_zone_aware_with_dedicated_masters(variant):
    cluster = _domain(variant)["ClusterConfig"]
    assert (cluster["ZoneAwarenessEnabled"], cluster["DedicatedMasterEnabled"], cluster["DedicatedMasterCount"],
            cluster["InstanceCount"]) == (True, True, search_domain.PROD_MASTER_NODES, search_domain.PROD_DATA_NODES)


def test_given_the_indexer_role_when_deployed_then_the_stack_maps_it_to_its_opensearch_role(dev):
    dev.template.has_resource_properties("Custom::OpenSearchRoleMapping", {
        "BackendRoleArn": dev.arn(dev.stack.indexer_role),
        "RoleName": search_domain.INDEXER_ROLE_NAME,
        "IndexPatterns": [f"{INDEX_NAME}*"],
        "SecretArn": dev.ref(dev.stack.search.master_user),
    })


def test_given_the_domain_security_group_when_synthesized_then_the_indexer_may_reach_it_over_https(dev):
    dev.template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {
        "GroupId": {"Fn::GetAtt": [dev.logical_id(dev.stack.search.security_group), "GroupId"]},
        "SourceSecurityGroupId": {"Fn::GetAtt": [
            dev.logical_id(dev.stack.indexer.function.connections.security_groups[0]), "GroupId"]},
        "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp",
    })


def test_given_the_dev_profile_when_synthesized_then_the_vpc_has_no_nat_gateway(dev):
    dev.template.resource_count_is("AWS::EC2::NatGateway", 0)


def test_given_no_nat_when_the_role_mapper_reads_its_secret_then_a_secrets_manager_endpoint_serves_it(dev):
    endpoint = dev.resource(dev.stack.network.secrets_endpoint)["Properties"]
    assert (endpoint["VpcEndpointType"], endpoint["PrivateDnsEnabled"]) == ("Interface", True)
    assert "secretsmanager" in str(endpoint["ServiceName"])


def test_given_the_bastion_when_synthesized_then_its_security_group_admits_no_inbound_traffic(dev):
    bastion = dev.stack.network.bastion
    (group,) = bastion.connections.security_groups
    properties = dev.resource(group)["Properties"]
    ingress = [r for r in dev.resources("AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": [dev.logical_id(group), "GroupId"]}]
    assert (properties.get("SecurityGroupIngress", []), ingress) == ([], [])


def test_given_the_bastion_when_synthesized_then_its_role_holds_only_the_session_manager_actions(dev):
    assert dev.role_actions(dev.stack.network.bastion.role) == set(network.SESSION_MANAGER_ACTIONS)


def test_given_the_bastion_when_synthesized_then_it_requires_imdsv2_and_has_no_key_pair(dev):
    instance = dev.resource(dev.stack.network.bastion)["Properties"]
    template = list(dev.resources("AWS::EC2::LaunchTemplate").values())
    assert "KeyName" not in instance
    assert template[0]["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"


def test_given_bastion_false_when_synthesized_then_no_instance_is_created(variant):
    variant.template.resource_count_is("AWS::EC2::Instance", 0)


def test_given_the_prod_profile_when_synthesized_then_the_domain_spans_three_availability_zones(variant):
    domain = _domain(variant)
    assert (domain["ClusterConfig"]["ZoneAwarenessConfig"], len(domain["VPCOptions"]["SubnetIds"])) == (
        {"AvailabilityZoneCount": 3}, 3)


def test_given_the_indexer_role_when_synthesized_then_it_reads_only_the_tag_stream(dev):
    kinesis = [s["Resource"] for s in dev.role_statements(dev.stack.indexer_role)
               if any(a.startswith("kinesis:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    assert kinesis and all(r == dev.arn(dev.stack.stream.stream) for r in kinesis)


def test_given_the_role_mapper_when_synthesized_then_it_may_read_only_the_master_user_secret(dev):
    mapper = dev.stack.search.node.find_child("RoleMapper")
    secrets = [s["Resource"] for s in dev.role_statements(mapper.role)
               if any(a.startswith("secretsmanager:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    assert secrets == [dev.ref(dev.stack.search.master_user)]
