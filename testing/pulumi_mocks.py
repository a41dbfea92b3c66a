"""Runs the whole Pulumi program under Pulumi's unit-test mocks and records every registration.

No CLI, no AWS: `run_program` parses a stack file the way the CLI would, sets it as config, runs
`__main__.py` and returns what was registered (type, name, inputs, provider, explicit dependencies,
retain-on-delete) plus the stack outputs.

awsx classes are remote components: under mocks their children never exist, so tests assert on their
inputs. The mocks return only the outputs the program reads; the awsx load balancer's and VPC's
resource-typed outputs are references to fake registrations made here."""

from __future__ import annotations

import hashlib
import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "efs-inference"
REGION = "eu-central-1"
ACCOUNT = "123456789012"
S3_PREFIX_LIST = "pl-6ea54007"  # what AWS answers for com.amazonaws.eu-central-1.s3, to a lookup or an endpoint
EXISTING_VPC = "vpc-0123456789abcdef0"


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str  # custom resources: the provider reference
    providers: dict[str, str]  # components, remote ones included: the providers their children get
    parent: str
    dependencies: list[str]
    retain_on_delete: bool


@dataclass
class StackRun:
    stack: str
    resources: list[Registered]
    outputs: dict[str, Any] = field(default_factory=dict)
    variant: str = ""  # the name in tests/infra/variants.py, for runs made from there

    def of_type(self, type_token: str) -> list[Registered]:
        return [item for item in self.resources if item.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Registered:
        found = [item for item in self.of_type(type_token) if name is None or item.name == name]
        assert len(found) == 1, f"expected one {type_token} named {name!r}, found {[item.urn for item in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(item for item in self.resources if item.urn == urn)


def stack_file_config(stack: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml as the CLI hands it to the program: namespaced keys, every value a string."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    return {
        key if ":" in key else f"{PROJECT}:{key}": _as_config_string(value) for key, value in document["config"].items()
    }


def _as_config_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    inputs=rpc.deserialize_properties(request.object),
                    provider=request.provider,
                    providers=dict(request.providers),
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
        return response

    def fake_child(self, type_token: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
        """Registers a resource the program never created and returns a reference to it, as an awsx output."""
        urn = f"urn:pulumi:{settings.get_stack()}::{PROJECT}::{type_token}::{name}"
        resource_id = f"{name}-id"
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, {"id": resource_id, **state})
        return {rpc._special_sig_key: rpc._special_resource_sig, "urn": urn, "id": resource_id}


# Types whose physical name the program reads without setting it: the provider then names them <name>-<7 hex>.
_AUTONAMED = ("aws:ecs/cluster:Cluster", "aws:sqs/queue:Queue")


def autoname(name: str) -> str:
    """The physical name the mocks give a resource the program lets the provider name (as Pulumi does)."""
    return f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:7]}"


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


class StackMocks(Mocks):
    """`subnets` answers subnet lookups (id → zone, VPC); any other subnet is in EXISTING_VPC, in the zone its
    last hex digit picks (…1 in zone a, …2 in b)."""

    def __init__(self, subnets: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.monitor = RecordingMonitor(self)
        self.subnets = dict(subnets or {})
        self.invoked: list[str] = []

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]  # the monitor accepts a bare dict
        self.invoked.append(args.token)
        if args.token == "aws:ec2/getSubnet:getSubnet":
            subnet_id = args.args["id"]
            zone, vpc = self.subnets.get(subnet_id, (REGION + "abcdef"[int(subnet_id[-1], 16) % 6], EXISTING_VPC))
            return {"id": subnet_id, "availabilityZone": zone, "vpcId": vpc}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": ACCOUNT,
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer",
                "userId": "AIDA",
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"id": REGION, "name": REGION, "region": REGION}
        if args.token == "aws:efs/getFileSystem:getFileSystem":
            file_system_id = args.args["fileSystemId"]
            return {
                "id": file_system_id,
                "fileSystemId": file_system_id,
                "arn": _arn("elasticfilesystem", f"file-system/{file_system_id}"),
            }
        if args.token == "aws:ec2/getPrefixList:getPrefixList":
            assert args.args["name"] == f"com.amazonaws.{REGION}.s3", args.args
            return {"id": S3_PREFIX_LIST, "prefixListId": S3_PREFIX_LIST, "name": args.args["name"], "cidrBlocks": []}
        raise AssertionError(f"unexpected invoke {args.token}")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id = f"{args.name}-id"
        if args.typ.startswith("awsx:"):
            # Never echo awsx inputs back: only the outputs the program reads.
            return resource_id, self._awsx_outputs(args)
        outputs = {**args.inputs, **self._computed(args, resource_id)}
        return resource_id, outputs

    def _awsx_outputs(self, args: MockResourceArgs) -> dict[str, Any]:
        if args.typ == "awsx:ec2:Vpc":
            zones = int(args.inputs["numberOfAvailabilityZones"])
            private = [f"subnet-private{index}" for index in range(zones)]
            public = [f"subnet-public{index}" for index in range(zones)]
            tables = [
                self.monitor.fake_child("aws:ec2/routeTable:RouteTable", f"{args.name}-{subnet}", {})
                for subnet in private + public
            ]
            return {"vpcId": "vpc-0mock", "privateSubnetIds": private, "publicSubnetIds": public, "routeTables": tables}
        if args.typ == "awsx:ecr:Image":
            digest = hashlib.sha256(args.name.encode()).hexdigest()
            return {"imageUri": f"{args.inputs['repositoryUrl']}@sha256:{digest}"}
        if args.typ == "awsx:lb:ApplicationLoadBalancer":
            return {
                "loadBalancer": self.monitor.fake_child(
                    "aws:lb/loadBalancer:LoadBalancer",
                    args.name,
                    {
                        "dnsName": f"{args.name}.{REGION}.elb.amazonaws.com",
                        "arn": _arn("elasticloadbalancing", f"loadbalancer/app/{args.name}"),
                        "arnSuffix": f"app/{args.name}/50dc6c495c0c9188",
                    },
                ),
                "defaultTargetGroup": self.monitor.fake_child(
                    "aws:lb/targetGroup:TargetGroup",
                    args.name,
                    {
                        "arn": _arn("elasticloadbalancing", f"targetgroup/{args.name}"),
                        "arnSuffix": f"targetgroup/{args.name}/73e2d6bc24d8a067",
                    },
                ),
            }
        if args.typ == "awsx:ecs:FargateService":
            service = {"name": autoname(args.name)}
            return {"service": self.monitor.fake_child("aws:ecs/service:Service", args.name, service)}
        return {}

    @staticmethod
    def _computed(args: MockResourceArgs, resource_id: str) -> dict[str, Any]:
        """Outputs AWS computes, for the resource types whose outputs the program reads."""
        inputs = args.inputs
        computed: dict[str, Any] = {"arn": _arn("mock", f"{args.typ}/{args.name}")}
        if args.typ in _AUTONAMED and "name" not in inputs:
            computed["name"] = autoname(args.name)
        if args.typ == "aws:cloudwatch/logGroup:LogGroup":
            computed["arn"] = _arn("logs", f"log-group:{inputs['name']}")
        elif args.typ == "aws:lambda/function:Function":
            computed["arn"] = _arn("lambda", f"function:{inputs['name']}")
        elif args.typ == "aws:apigatewayv2/api:Api":
            computed["executionArn"] = _arn("execute-api", resource_id)
            computed["apiEndpoint"] = f"https://{resource_id}.execute-api.{REGION}.amazonaws.com"
        elif args.typ == "aws:ecr/repository:Repository":
            computed["name"] = args.name
            computed["repositoryUrl"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{args.name}"
        elif args.typ == "aws:s3/bucket:Bucket":
            computed["bucket"] = f"{args.name}-bucket"
            computed["arn"] = f"arn:aws:s3:::{args.name}-bucket"
        elif args.typ == "aws:efs/fileSystem:FileSystem":
            computed["arn"] = _arn("elasticfilesystem", f"file-system/{resource_id}")
        elif args.typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            computed["prefixListId"] = S3_PREFIX_LIST
        elif args.typ == "aws:sqs/queue:Queue":
            computed["arn"] = _arn("sqs", args.name)
            computed["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{args.name}"
        elif args.typ == "aws:efs/accessPoint:AccessPoint":
            computed["arn"] = _arn("elasticfilesystem", f"access-point/{resource_id}")
        return computed


def run_program(config: Mapping[str, str], stack: str, mocks: StackMocks | None = None) -> StackRun:
    """Runs __main__.py once with this config; raises what the program raises (`mocks` then shows what it did)."""
    mocks = mocks or StackMocks()
    settings.ROOT.set(None)  # a fresh root stack per run, so outputs never leak between runs
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=mocks.monitor)
    pulumi.runtime.set_all_config(dict(config))
    run = StackRun(stack=stack, resources=mocks.monitor.registered)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        root = settings.get_root_resource()
        exported: dict[str, Any] = getattr(root, "outputs", {})
        return pulumi.Output.all(**exported).apply(run.outputs.update)

    program()
    return run
