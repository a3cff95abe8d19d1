"""The VPC that keeps OpenSearch off the internet, without NAT gateways.

Nothing in the private subnets needs the internet, so there is no NAT (and no NAT bill):
- the indexer Lambda talks to OpenSearch inside the VPC; Kinesis polling, the on-failure queue,
  logs and traces are done by the Lambda service outside the function's ENI;
- the two custom resources (role mapping, dashboards) also need the OpenSearch admin password: one interface
  endpoint for Secrets Manager serves it;
- the bastion sits in a public subnet with no inbound rule at all, so the SSM agent reaches
  Session Manager through the internet gateway (cheaper than the three SSM endpoints) while
  nobody can connect to it except through Session Manager (IAM-authenticated, logged).
"""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.nag import Ack, acknowledge
from cdk.removal import log_group

PRIVATE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
BASTION_INSTANCE_TYPE = "t4g.nano"
BASTION_VOLUME_GIB = 8
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""The minimum instance permissions for Session Manager sessions (AWS Systems Manager User Guide,
"Create a custom IAM role for Session Manager", without the optional S3/KMS logging part)."""
FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


PROD_AVAILABILITY_ZONES = 3


def availability_zones(config: DeploymentConfig) -> int:
    """dev: one node in one AZ; prod: three AZs, so the three dedicated masters sit one per zone and
    losing a zone leaves a quorum of two (with two zones, one of them held two masters)."""
    return PROD_AVAILABILITY_ZONES if config.is_prod else 1


def _zones(count: int) -> list[str]:
    """The region's first `count` AZs, chosen at deploy time: an environment-agnostic stack (the
    default, so synth works offline) would otherwise see two AZs at most, whatever max_azs says.
    Regions with fewer zones for the account fail the deploy with a clear CloudFormation error."""
    return [Fn.select(index, Fn.get_azs()) for index in range(count)]


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        subnets = [
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ]
        if config.bastion:
            subnets.append(ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=26))
        self.vpc = ec2.Vpc(
            self, "Vpc",
            availability_zones=_zones(availability_zones(config)),
            nat_gateways=0,
            subnet_configuration=subnets,
            restrict_default_security_group=True,
        )
        self.flow_logs = log_group(self, "FlowLogs", config=config, retention=FLOW_LOG_RETENTION)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.secrets_endpoint = self.vpc.add_interface_endpoint(
            "SecretsManager",
            service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            subnets=PRIVATE_SUBNETS,
            private_dns_enabled=True,
            open=False,  # callers are allowed one by one (`allow_secrets_from`)
        )

        self.bastion: ec2.Instance | None = None
        if config.bastion:
            self.bastion = self._bastion()

    def _bastion(self) -> ec2.Instance:
        """An instance only Session Manager can reach: no key pair, no inbound rule, IMDSv2.
        Its role holds the five actions a Session Manager session needs, listed one by one (CDK's
        BastionHostLinux would grant `ssmmessages:*` and `ec2messages:*`)."""
        role = iam.Role(
            self, "BastionRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Bastion: SSM Session Manager port forwarding to OpenSearch Dashboards",
        )
        role.add_to_policy(iam.PolicyStatement(actions=list(SESSION_MANAGER_ACTIONS), resources=["*"]))
        acknowledge(role, Ack("IAM5[Resource::*]", "The Session Manager agent actions (ssm:UpdateInstanceInformation, "
                                                   "ssmmessages:*Channel) take no resource ARN."))
        security_group = ec2.SecurityGroup(
            self, "BastionSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Bastion: no inbound rule; HTTPS out to Session Manager and OpenSearch",
        )
        security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "Session Manager endpoints")
        bastion = ec2.Instance(
            self, "Bastion",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            instance_type=ec2.InstanceType(BASTION_INSTANCE_TYPE),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
            role=role,
            security_group=security_group,
            require_imdsv2=True,
            associate_public_ip_address=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        BASTION_VOLUME_GIB, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        acknowledge(
            bastion,
            Ack("EC28", "A t4g.nano used only as a port-forwarding hop: basic monitoring is enough."),
            Ack("EC29", "Stateless and rebuilt by the stack at will: termination protection would "
                        "only make `cdk destroy` fail."),
        )
        return bastion

    def allow_secrets_from(self, peer: ec2.IConnectable) -> None:
        self.secrets_endpoint.connections.allow_default_port_from(peer, "Secrets Manager over TLS")
