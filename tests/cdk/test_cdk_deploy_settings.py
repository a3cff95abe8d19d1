"""What the deploy itself sets up: the dashboards' saved objects, the API's rate from the region's
DetectLabels quota, the logging role switch, and the prod profile's three zones."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack

from autotagger import contracts
from cdk import quota
from cdk.config import DeploymentConfig
from cdk.constructs import search_domain


def _custom(synth, type_name):
    (resource,) = synth.resources(type_name).values()
    return resource


def test_given_the_dashboards_custom_resource_when_synthesized_then_it_carries_the_hash_of_the_saved_objects(dev):
    properties = _custom(dev, "Custom::OpenSearchDashboardsSavedObjects")["Properties"]
    files = search_domain.saved_object_files()
    assert properties["SavedObjectsSha256"] == search_domain.saved_objects_digest(files)
    assert properties["SecretArn"] == dev.ref(dev.stack.search.master_user)


def test_given_a_changed_saved_object_when_hashed_then_the_property_changes_so_the_import_runs_again(tmp_path):
    path = tmp_path / "a.ndjson"
    path.write_text('{"id": "1"}\n')
    before = search_domain.saved_objects_digest([path])
    path.write_text('{"id": "2"}\n')
    assert search_domain.saved_objects_digest([path]) != before


def test_given_the_dashboards_installer_asset_when_synthesized_then_it_holds_the_saved_objects_and_the_import_code(dev):
    function = dev.stack.search.node.find_child("DashboardsInstaller")
    code = dev.resource(function)["Properties"]["Code"]
    asset = dev.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
    assert sorted(p.name for p in (asset / "dashboards").glob("*.ndjson")) == [
        p.name for p in search_domain.saved_object_files()]
    assert (asset / "handler.py").is_file() and (asset / "autotagger" / "dashboards_import.py").is_file()
    assert (asset / "requests").is_dir()  # the wheel pinned in its requirements.lock
    assert not (asset / "autotagger" / "cli").exists()  # only what the handler imports


def _stack(region: str | None) -> Stack:
    return Stack(App(), "S", env=Environment(region=region) if region else None)


@pytest.mark.parametrize("region, rate", [("us-east-1", 50), ("eu-west-1", 50), ("ap-southeast-2", 5)])
def test_given_a_known_region_when_synthesized_then_the_rate_is_that_regions_detect_labels_quota(region, rate):
    config = DeploymentConfig.from_context({})
    assert rate == contracts.DETECT_LABELS_TPS.get(region, contracts.DETECT_LABELS_TPS_OTHER_REGIONS)
    stack = _stack(region)
    assert (quota.api_rate_limit(stack, config), quota.api_burst_limit(stack, config)) == (rate, 2 * rate)


def test_given_an_environment_agnostic_stack_when_synthesized_then_the_rate_is_chosen_by_region_at_deploy(dev):
    rate = dev.stack.resolve(dev.stack.upload_api.rate_limit)
    condition, high, other = rate["Fn::If"]
    assert (high, other) == (50, contracts.DETECT_LABELS_TPS_OTHER_REGIONS)
    regions = {e["Fn::Equals"][1] for e in dev.json["Conditions"][condition]["Fn::Or"]}
    assert regions == set(contracts.DETECT_LABELS_TPS)


def test_given_a_rate_in_context_when_synthesized_then_it_overrides_the_quota(variant):
    config = variant.stack.config
    assert variant.stack.resolve(variant.stack.upload_api.rate_limit) == config.api_rate_limit == 7
    assert variant.stack.resolve(variant.stack.upload_api.burst_limit) == 14


def test_given_the_account_role_switch_off_when_synthesized_then_the_account_logging_role_is_left_alone(variant):
    assert variant.resources("AWS::ApiGateway::Account") == {}


def test_given_the_default_when_synthesized_then_the_stack_sets_the_account_logging_role(dev):
    assert len(dev.resources("AWS::ApiGateway::Account")) == 1


def test_given_the_prod_profile_when_synthesized_then_three_masters_and_data_nodes_span_three_zones(variant):
    domain = variant.resource(variant.stack.search.domain)["Properties"]
    cluster = domain["ClusterConfig"]
    assert (cluster["DedicatedMasterCount"], cluster["InstanceCount"]) == (3, 3)
    assert cluster["ZoneAwarenessConfig"]["AvailabilityZoneCount"] == 3
    subnets = [variant.json["Resources"][s["Ref"]]["Properties"]["AvailabilityZone"]
               for s in domain["VPCOptions"]["SubnetIds"]]
    assert sorted(s["Fn::Select"][0] for s in subnets) == [0, 1, 2]  # the region's first three zones


def test_given_the_upload_api_when_synthesized_then_its_4xx_answers_are_the_ones_both_readmes_list(dev):
    """Each answer of `upload_api.ANSWERS` is in the template (a gateway response, or the 403 of
    the integration) and, body and status, in the README's table and its Korean twin."""
    import json
    from pathlib import Path

    from cdk.constructs import upload_api

    gateway = {r["Properties"]["StatusCode"]: json.loads(r["Properties"]["ResponseTemplates"]["application/json"])
               for r in dev.resources("AWS::ApiGateway::GatewayResponse").values()}
    integration = dev.resource(dev.stack.upload_api.method)["Properties"]["Integration"]["IntegrationResponses"]
    refused = [json.loads(r["ResponseTemplates"]["application/json"]) for r in integration
               if r.get("StatusCode") == upload_api.REFUSED_BUCKET_STATUS]
    root = Path(__file__).resolve().parents[2]
    for name, (status, body) in upload_api.ANSWERS.items():
        assert body in ([*refused] if name == "wrong bucket" else [gateway.get(status)]), name
        row = f"| {status} | `{json.dumps(body)}` |"
        for readme in ("README.md", "README.kr.md"):
            assert row in (root / readme).read_text(encoding="utf-8"), (name, readme)
