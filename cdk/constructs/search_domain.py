"""The OpenSearch domain, private to the VPC, with fine-grained access control.

Who gets in, and how:
- the indexer Lambda signs with SigV4 as its IAM role; the role-mapping custom resource
  (`cdk/role_mapping/index.py`) maps that role to an OpenSearch role limited to the image index,
  and the dashboards custom resource (`functions/dashboards_install/`) imports the saved objects
  of `dashboards/*.ndjson`, so no one has to click through Dashboards after `cdk deploy`;
- people use Dashboards as the internal master user, whose password CDK generates into Secrets
  Manager, through SSM port forwarding on the bastion (the domain has no public endpoint).
Because Dashboards logins are not SigV4-signed, the domain access policy lets any principal
send HTTP requests and fine-grained access control authenticates and authorises every one of
them; only the security groups below can reach the endpoint at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from autotagger.contracts import INDEX_NAME
from cdk import lambda_bundle
from cdk.config import DeploymentConfig
from cdk.constructs.network import PRIVATE_SUBNETS, Network, availability_zones
from cdk.lambda_bundle import ARCHITECTURE
from cdk.nag import Ack, acknowledge
from cdk.removal import log_group, removal_policy, retain_with
from cdk.vpc_custom_resource import VpcCustomResource

ENGINE_VERSION = opensearch.EngineVersion.OPENSEARCH_3_3
DOMAIN_NAME_PREFIX = "autotagger-"
"""The domain name is this prefix + the last 12 hex digits of the stack's id (a UUID): unique for
every stack (also a stack deployed again after a destroy that retained the old domain), within
the 28 lower-case characters a domain name may have, and known without referring to the domain
itself, which the domain access policy needs (its ARN names the domain)."""

MASTER_USER_NAME = "admin"
INDEXER_ROLE_NAME = "autotagger_indexer"
"""The OpenSearch (not IAM) role the indexer's IAM role is mapped to."""

HTTP_ACTIONS = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch")
INDEXER_HTTP_ACTIONS = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete")

INDEXER_CLUSTER_PERMISSIONS = (
    "cluster_monitor",
    "cluster_composite_ops",  # _bulk, _mget, _msearch
    "indices:admin/index_template/get",
    "indices:admin/index_template/put",
    "indices:admin/template/get",
    "indices:admin/template/put",
)
INDEXER_INDEX_ACTIONS = (
    "crud", "create_index", "indices_monitor", "indices:admin/mapping/put", "indices:admin/get",
    "indices:admin/refresh",
)
"""What autotagger.index.opensearch does: mget/bulk, exists/create the index, refresh on demand."""

READER_ROLE_NAME = "autotagger_reader"
"""The OpenSearch role of the read API's IAM role: reads only."""
READER_HTTP_ACTIONS = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost")
"""`_search`, `_count` and `_mget` are POSTs; nothing the reader sends writes."""
READER_CLUSTER_PERMISSIONS = ("cluster_composite_ops_ro", "indices:admin/index_template/get")
READER_INDEX_ACTIONS = ("read", "indices:admin/get", "indices:admin/mappings/get")
"""What the read side of autotagger.index.opensearch does: search, count, get, and on first use read
the index template, check the index exists and read its mapping (`ensure_ready`). `read` is search,
get, mget and field mappings; `cluster_composite_ops_ro` is mget/msearch/scroll and alias lookups
(OpenSearch Security, "Default action groups",
https://docs.opensearch.org/docs/latest/security/access-control/default-action-groups/)."""

DEV_DATA_NODES = 1
PROD_DATA_NODES = 3
"""One per zone: with zone awareness the data nodes are spread evenly over the three zones."""
PROD_MASTER_NODES = 3
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
ROLE_MAPPER_RUNTIME = lambda_.Runtime.PYTHON_3_14
"""Standard library + the runtime's boto3 only, so it can follow the newest runtime."""
ROLE_MAPPING_CODE = Path(__file__).resolve().parents[1] / "role_mapping"
DASHBOARDS_INSTALL_DIR = lambda_bundle.FUNCTIONS_DIR / "dashboards_install"
SAVED_OBJECTS_DIR = lambda_bundle.REPO_ROOT / "dashboards"
CUSTOM_RESOURCE_TIMEOUT = Duration.minutes(10)
"""Longer than the handlers' retry budgets (a fresh domain answers 401/5xx for a few minutes)."""


def saved_object_files() -> list[Path]:
    files = sorted(SAVED_OBJECTS_DIR.glob("*.ndjson"))
    if not files:
        raise FileNotFoundError(f"no OpenSearch Dashboards saved objects in {SAVED_OBJECTS_DIR}")
    return files


def saved_objects_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class SearchDomain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        network: Network,
        indexer_role: iam.IRole,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        stack = Stack.of(self)
        policy = removal_policy(config)
        domain_name = DOMAIN_NAME_PREFIX + Fn.select(4, Fn.split("-", Fn.select(2, Fn.split("/", stack.stack_id))))
        self.domain_arn = stack.format_arn(service="es", resource="domain", resource_name=domain_name)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=network.vpc, allow_all_outbound=False,
            description="OpenSearch domain: HTTPS from the functions of this stack and the bastion only",
        )
        self.master_user = secretsmanager.Secret(
            self, "MasterUser",
            description="OpenSearch master user (Dashboards login and security administration)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=f'{{"username": "{MASTER_USER_NAME}"}}',
                generate_string_key="password",
                password_length=32,
                require_each_included_type=True,
                exclude_characters="\"'\\/@:`",
            ),
            removal_policy=policy,
        )
        acknowledge(self.master_user, Ack(
            "SMG4", "The OpenSearch master password cannot be rotated by a Secrets Manager rotation "
                    "function without changing the domain; rotate it by updating the domain (see "
                    "README) when a person who knew it leaves.",
        ))
        self.log_groups = {
            kind: log_group(self, f"{kind}Logs", config=config, retention=LOG_RETENTION)
            for kind in ("SlowSearch", "SlowIndex", "App", "Audit")
        }
        # One resource policy for the four log groups (instead of CDK's custom resource per domain).
        logs_policy = logs.ResourcePolicy(
            self, "LogsResourcePolicy",
            policy_statements=[iam.PolicyStatement(
                principals=[iam.ServicePrincipal("es.amazonaws.com")],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[group.log_group_arn for group in self.log_groups.values()],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )],
        )

        prod = config.is_prod
        self.domain = opensearch.Domain(
            self, "Domain",
            domain_name=domain_name,
            version=ENGINE_VERSION,
            capacity=opensearch.CapacityConfig(
                data_nodes=PROD_DATA_NODES if prod else DEV_DATA_NODES,
                data_node_instance_type=config.prod_instance_type if prod else config.dev_instance_type,
                master_nodes=PROD_MASTER_NODES if prod else None,
                master_node_instance_type=config.prod_master_instance_type if prod else None,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(volume_size=config.volume_size_gib, volume_type=ec2.EbsDeviceVolumeType.GP3),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=prod, availability_zone_count=availability_zones(config) if prod else None),
            vpc=network.vpc,
            vpc_subnets=[PRIVATE_SUBNETS],
            security_groups=[self.security_group],
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_name=MASTER_USER_NAME,
                master_user_password=self.master_user.secret_value_from_json("password"),
            ),
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True, slow_search_log_group=self.log_groups["SlowSearch"],
                slow_index_log_enabled=True, slow_index_log_group=self.log_groups["SlowIndex"],
                app_log_enabled=True, app_log_group=self.log_groups["App"],
                audit_log_enabled=True, audit_log_group=self.log_groups["Audit"],
            ),
            suppress_logs_resource_policy=True,
            enable_version_upgrade=True,
            removal_policy=policy,
        )
        self.domain.node.add_dependency(logs_policy)
        acknowledge(
            self.domain,
            Ack("OS3", "The domain is in a VPC: IP allowlists do not apply to VPC domains; its security "
                       "group admits only the indexer, the two custom resources and the bastion."),
            Ack("OS5", "Fine-grained access control authenticates every request (SigV4 for the indexer, "
                       "the internal master user for Dashboards logins, which cannot be SigV4-signed); "
                       "the open access policy is AWS's documented pairing with FGAC, inside the VPC."),
        )
        if not prod:
            acknowledge(
                self.domain,
                Ack("OS4", "dev profile: one small data node to keep the cost down; the prod profile "
                           "(-c autotagger:profile=prod) adds three dedicated master nodes."),
                Ack("OS7", "dev profile: a single node cannot be zone-aware; the prod profile spreads "
                           "nodes over three AZs with zone awareness."),
            )
        cfn_domain = self.domain.node.default_child
        cfn_domain.access_policies = iam.PolicyDocument(statements=[iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=list(HTTP_ACTIONS),
            resources=[f"{self.domain_arn}/*"],
        )]).to_json()

        indexer_role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(INDEXER_HTTP_ACTIONS), resources=[f"{self.domain.domain_arn}/*"]
        ))
        acknowledge(indexer_role, Ack(
            f"IAM5[Resource::<{stack.get_logical_id(cfn_domain)}.Arn>/*]",
            "es:ESHttp* actions are authorized per HTTP path: '/*' means the paths of this one domain; "
            "fine-grained access control limits the role further to the image index (role mapping).",
        ))
        self._retain_network(config, network)
        self.role_mapping = self._map_indexer_role(network, indexer_role)
        self.dashboards = self._install_dashboards(network)
        for custom_resource in (self.role_mapping, self.dashboards):
            custom_resource.finish()  # every rule of their functions exists now
        if network.bastion is not None:
            self.allow_https_from(network.bastion, "Dashboards through SSM port forwarding")

    def _retain_network(self, config: DeploymentConfig, network: Network) -> None:
        """A kept domain keeps its network interfaces in its subnets and its security group, so
        CloudFormation could delete neither (DELETE_FAILED on `cdk destroy`, ROLLBACK_FAILED on a
        failed update). They are kept with it, with the VPC they belong to. A snapshot-and-destroy
        was the other way out, but CloudFormation's Snapshot policy does not cover OpenSearch
        domains (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html)
        and a manual snapshot needs an S3 repository registered inside the domain; a kept domain
        can still be snapshotted, or deleted with its VPC, when its data is no longer wanted."""
        if config.destroy_on_removal:
            return
        retain_with(config, self.security_group, network.vpc, *network.vpc.isolated_subnets)

    def _vpc_function(self, construct_id: str, *, description: str, code: lambda_.Code, handler: str,
                      runtime: lambda_.Runtime, network: Network) -> lambda_.Function:
        """A custom-resource handler in the VPC that reads the master user secret and calls the domain."""
        function = lambda_.Function(
            self, construct_id,
            description=description,
            runtime=runtime,
            architecture=ARCHITECTURE,
            handler=handler,
            code=code,
            timeout=CUSTOM_RESOURCE_TIMEOUT,
            vpc=network.vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            allow_all_outbound=False,
            log_group=log_group(self, f"{construct_id}Logs", config=self._config, retention=LOG_RETENTION),
        )
        self.master_user.grant_read(function)
        network.allow_secrets_from(function)
        self.allow_https_from(function, f"{construct_id}: calls of the custom resource")
        return function

    def _map_indexer_role(self, network: Network, indexer_role: iam.IRole) -> VpcCustomResource:
        function = self._vpc_function(
            "RoleMapper", description="Maps the indexer IAM role to its OpenSearch role (custom resource)",
            code=lambda_.Code.from_asset(str(ROLE_MAPPING_CODE), exclude=["__pycache__", "*.pyc"]),
            handler="index.handler", runtime=ROLE_MAPPER_RUNTIME, network=network,
        )
        mapping = VpcCustomResource(
            self, "IndexerRoleMapping",
            config=self._config,
            function=function,
            resource_type="Custom::OpenSearchRoleMapping",
            log_retention=LOG_RETENTION,
            properties=self._role_mapping_properties(
                INDEXER_ROLE_NAME, indexer_role, INDEXER_CLUSTER_PERMISSIONS, INDEXER_INDEX_ACTIONS),
        )
        # Deleted before the endpoint it reads the secret through (the domain is already referenced).
        mapping.resource.node.add_dependency(network.secrets_endpoint)
        self._secrets_endpoint = network.secrets_endpoint
        return mapping

    def _role_mapping_properties(self, role_name: str, role: iam.IRole, cluster_permissions: tuple[str, ...],
                                 index_actions: tuple[str, ...]) -> dict[str, object]:
        return {
            "Endpoint": f"https://{self.domain.domain_endpoint}",
            "SecretArn": self.master_user.secret_arn,
            "RoleName": role_name,
            "BackendRoleArn": role.role_arn,
            "IndexPatterns": [f"{INDEX_NAME}*"],
            "ClusterPermissions": list(cluster_permissions),
            "IndexActions": list(index_actions),
        }

    def grant_read(self, role: iam.IRole, function: lambda_.IFunction) -> None:
        """Lets `function` (running as `role`) read the image index and nothing else: signed GET/HEAD/POST
        on this domain, a read-only OpenSearch role mapped to `role` (a second resource of the role
        mapper), HTTPS into the domain."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(READER_HTTP_ACTIONS), resources=[f"{self.domain.domain_arn}/*"]))
        acknowledge(role, Ack(
            f"IAM5[Resource::<{Stack.of(self).get_logical_id(self.domain.node.default_child)}.Arn>/*]",
            "es:ESHttp* actions are authorized per HTTP path: '/*' means the paths of this one domain; "
            "fine-grained access control limits the role to reading the image index (role mapping).",
        ))
        self.reader_role_mapping = self.role_mapping.add_resource(
            "ReaderRoleMapping", self._role_mapping_properties(
                READER_ROLE_NAME, role, READER_CLUSTER_PERMISSIONS, READER_INDEX_ACTIONS))
        self.reader_role_mapping.node.add_dependency(self._secrets_endpoint)
        self.allow_https_from(function, "read API Lambda")
        self.role_mapping.finish()  # the new resource depends on the role mapper's rules too

    def _install_dashboards(self, network: Network) -> VpcCustomResource:
        """The saved objects of `dashboards/*.ndjson`, imported by the deploy (and again whenever
        the files change: their hash is a property, so CloudFormation sends an Update)."""
        files = saved_object_files()
        function = self._vpc_function(
            "DashboardsInstaller", description="Imports the OpenSearch Dashboards saved objects (custom resource)",
            code=lambda_bundle.function_code(DASHBOARDS_INSTALL_DIR, data_files=files),
            handler=lambda_bundle.HANDLER, runtime=lambda_bundle.RUNTIME, network=network,
        )
        acknowledge(function, Ack(
            "L1", "Python 3.13 on purpose: the asset's wheels are installed for cp313 by the shared "
                  "bundler (cdk/lambda_bundle.py), like the indexer's.",
        ))
        installer = VpcCustomResource(
            self, "Dashboards",
            config=self._config,
            function=function,
            resource_type="Custom::OpenSearchDashboardsSavedObjects",
            log_retention=LOG_RETENTION,
            properties={
                "Endpoint": f"https://{self.domain.domain_endpoint}",
                "SecretArn": self.master_user.secret_arn,
                "SavedObjectsSha256": saved_objects_digest(files),
            },
        )
        installer.resource.node.add_dependency(network.secrets_endpoint)
        # After the role mapper's calls have seen the security API answer: the domain is ready.
        installer.resource.node.add_dependency(self.role_mapping.resource)
        return installer

    def allow_https_from(self, peer: ec2.IConnectable, description: str) -> None:
        self.domain.connections.allow_from(peer, ec2.Port.tcp(443), description)

    @property
    def endpoint_url(self) -> str:
        return f"https://{self.domain.domain_endpoint}"

    @property
    def dashboards_path(self) -> str:
        return "/_dashboards/"
