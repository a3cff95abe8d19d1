"""The OpenSearch domain, private to the VPC, with fine-grained access control.

Who gets in, and how:
- the indexer Lambda signs with SigV4 as its IAM role; the role-mapping custom resource
  (`cdk/role_mapping/index.py`) maps that role to an OpenSearch role limited to the image index,
  so no one has to click through Dashboards after `cdk deploy`;
- people use Dashboards as the internal master user, whose password CDK generates into Secrets
  Manager, through SSM port forwarding on the bastion (the domain has no public endpoint).
Because Dashboards logins are not SigV4-signed, the domain access policy lets any principal
send HTTP requests and fine-grained access control authenticates and authorises every one of
them; only the security groups below can reach the endpoint at all.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from autotagger.contracts import INDEX_NAME
from cdk.config import DeploymentConfig
from cdk.constructs.network import PRIVATE_SUBNETS, Network
from cdk.indexer_bundle import ARCHITECTURE
from cdk.nag import LAMBDA_LOGS, LAMBDA_VPC, MANAGED, Ack, acknowledge
from cdk.removal import log_group, removal_policy

ENGINE_VERSION = opensearch.EngineVersion.OPENSEARCH_3_3
DOMAIN_NAME = "autotagger-images"
"""Fixed, because the domain access policy must name the domain's ARN and a generated name would
make the policy refer to the resource it belongs to (a cycle CDK otherwise breaks with an extra
custom resource)."""

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
PROD_DATA_NODES = 2
PROD_MASTER_NODES = 3
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
ROLE_MAPPER_RUNTIME = lambda_.Runtime.PYTHON_3_14
"""Standard library + the runtime's boto3 only, so it can follow the newest runtime."""
ROLE_MAPPING_CODE = Path(__file__).resolve().parents[1] / "role_mapping"


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
        stack = Stack.of(self)
        policy = removal_policy(config)
        self.domain_arn = stack.format_arn(service="es", resource="domain", resource_name=DOMAIN_NAME)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=network.vpc, allow_all_outbound=False,
            description="OpenSearch domain: HTTPS from the indexer, the role mapper and the bastion only",
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
            domain_name=DOMAIN_NAME,
            version=ENGINE_VERSION,
            capacity=opensearch.CapacityConfig(
                data_nodes=PROD_DATA_NODES if prod else DEV_DATA_NODES,
                data_node_instance_type=config.prod_instance_type if prod else config.dev_instance_type,
                master_nodes=PROD_MASTER_NODES if prod else None,
                master_node_instance_type=config.prod_master_instance_type if prod else None,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(volume_size=config.volume_size_gib, volume_type=ec2.EbsDeviceVolumeType.GP3),
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=prod, availability_zone_count=2 if prod else None),
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
                       "group admits only the indexer, the role mapper and the bastion."),
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
                           "nodes over two AZs with zone awareness."),
            )
        cfn_domain = self.domain.node.default_child
        cfn_domain.access_policies = iam.PolicyDocument(statements=[iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=list(HTTP_ACTIONS),
            resources=[f"{self.domain_arn}/*"],
        )]).to_json()

        indexer_role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(INDEXER_HTTP_ACTIONS), resources=[f"{self.domain_arn}/*"]
        ))
        acknowledge(indexer_role, Ack(
            f"IAM5[Resource::arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/{DOMAIN_NAME}/*]",
            "es:ESHttp* actions are authorized per HTTP path: '/*' means the paths of this one domain; "
            "fine-grained access control limits the role further to the image index (role mapping).",
        ))
        self._map_indexer_role(network, indexer_role)
        if network.bastion is not None:
            self.allow_https_from(network.bastion, "Dashboards through SSM port forwarding")

    def _map_indexer_role(self, network: Network, indexer_role: iam.IRole) -> None:
        function = lambda_.Function(
            self, "RoleMapper",
            description="Maps the indexer IAM role to its OpenSearch role (custom resource)",
            runtime=ROLE_MAPPER_RUNTIME,
            architecture=ARCHITECTURE,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(ROLE_MAPPING_CODE), exclude=["__pycache__", "*.pyc"]),
            timeout=Duration.minutes(10),
            vpc=network.vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            allow_all_outbound=False,
            log_group=logs.LogGroup(self, "RoleMapperLogs", retention=LOG_RETENTION),
        )
        acknowledge(function, LAMBDA_VPC, Ack(
            f"IAM4[{MANAGED}AWSLambdaBasicExecutionRole]",
            "CDK's default role for the role-mapper function: logging only.",
        ))
        self.master_user.grant_read(function)
        network.allow_secrets_from(function)
        self.allow_https_from(function, "security API calls of the role mapper")
        provider = cr.Provider(
            self, "RoleMapperProvider",
            on_event_handler=function,
            log_group=logs.LogGroup(self, "RoleMapperProviderLogs", retention=LOG_RETENTION),
        )
        acknowledge(provider, LAMBDA_LOGS, Ack(
            f"IAM5[Resource::<{Stack.of(self).get_logical_id(function.node.default_child)}.Arn>:*]",
            "CDK's custom-resource framework may invoke any version of the one role-mapper function.",
        ))
        self._role_mapper = provider
        self._secrets_endpoint = network.secrets_endpoint
        self.role_mapping = self._role_mapping(
            "IndexerRoleMapping", INDEXER_ROLE_NAME, indexer_role, INDEXER_CLUSTER_PERMISSIONS, INDEXER_INDEX_ACTIONS)

    def _role_mapping(self, construct_id: str, role_name: str, role: iam.IRole,
                      cluster_permissions: tuple[str, ...], index_actions: tuple[str, ...]) -> CustomResource:
        mapping = CustomResource(
            self, construct_id,
            service_token=self._role_mapper.service_token,
            resource_type="Custom::OpenSearchRoleMapping",
            properties={
                "Endpoint": f"https://{self.domain.domain_endpoint}",
                "SecretArn": self.master_user.secret_arn,
                "RoleName": role_name,
                "BackendRoleArn": role.role_arn,
                "IndexPatterns": [f"{INDEX_NAME}*"],
                "ClusterPermissions": list(cluster_permissions),
                "IndexActions": list(index_actions),
            },
        )
        # Deleted before the endpoint it reads the secret through (the domain is already referenced).
        mapping.node.add_dependency(self._secrets_endpoint)
        return mapping

    def grant_read(self, role: iam.IRole, function: lambda_.IFunction) -> None:
        """Lets `function` (running as `role`) read the image index and nothing else: signed GET/HEAD/POST
        on this domain, a read-only OpenSearch role mapped to `role`, HTTPS into the domain."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(READER_HTTP_ACTIONS), resources=[f"{self.domain_arn}/*"]))
        acknowledge(role, Ack(
            f"IAM5[Resource::arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/{DOMAIN_NAME}/*]",
            "es:ESHttp* actions are authorized per HTTP path: '/*' means the paths of this one domain; "
            "fine-grained access control limits the role to reading the image index (role mapping).",
        ))
        self.reader_role_mapping = self._role_mapping(
            "ReaderRoleMapping", READER_ROLE_NAME, role, READER_CLUSTER_PERMISSIONS, READER_INDEX_ACTIONS)
        self.allow_https_from(function, "read API Lambda")

    def allow_https_from(self, peer: ec2.IConnectable, description: str) -> None:
        self.domain.connections.allow_from(peer, ec2.Port.tcp(443), description)

    @property
    def endpoint_url(self) -> str:
        return f"https://{self.domain.domain_endpoint}"

    @property
    def dashboards_path(self) -> str:
        return "/_dashboards/"
