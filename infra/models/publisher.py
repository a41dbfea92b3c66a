"""Model publishing during `pulumi up`: each model folder goes to a private, encrypted, versioned S3
bucket; a function from the inference image copies each onto EFS atomically; one invocation per model,
which runs again only when that model's content (or the file system) changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from inference.models.bucket_layout import MODELS_PREFIX, latest_key
from inference.models.publisher import PUBLISHER_TIMEOUT_SECONDS
from infra.building_blocks.iam import Statement, s3_read_statements
from infra.building_blocks.private_bucket import private_bucket_controls
from infra.config.model_dirs import ModelBundle
from infra.config.names import StackNames
from infra.config.schema import StackConfig
from infra.functions.efs_function import EfsFunction, EfsFunctionArgs, FunctionPlacement, common_environment
from infra.images.container_image import ContainerImage
from infra.network.network import Network
from infra.storage.file_system import SharedFileSystem

PUBLISHER_COMMAND = ("inference.models.publisher.handler",)
PUBLISHER_MEMORY_MB = 1024
NONCURRENT_VERSION_DAYS = 30  # an overwritten or deleted model file is kept this long, then expires


@dataclass
class ModelPublisherArgs:
    bundles: tuple[ModelBundle, ...]
    image_uri: pulumi.Input[str]
    function_name: str
    placement: FunctionPlacement
    vpc_id: pulumi.Input[str]
    s3_prefix_list_id: pulumi.Input[str]  # the publisher's only way out: HTTPS to S3
    architecture: str = "x86_64"
    log_retention_days: int = 14
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    allow_deletion: bool = False  # whether `pulumi destroy` may empty the bucket
    # Anything whose change calls for publishing again, e.g. the file system id (a new file system is empty).
    republish_triggers: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # What the first publish waits for besides the function, e.g. the mount targets' DNS names resolving.
    invoke_after: Sequence[pulumi.Resource] = ()

    @classmethod
    def from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        bundles: tuple[ModelBundle, ...],
        *,
        image: ContainerImage,
        placement: FunctionPlacement,
        network: Network,
        file_system: SharedFileSystem,
        message_writers: Sequence[pulumi.Resource] = (),
    ) -> ModelPublisherArgs:
        """Placed like the API function; publishes again whenever the file system is a new one. Publishing waits
        for ``message_writers`` (the functions that write messages): once they write as their new identity, what
        the old one wrote is shared with it, and nothing written as the old one comes after."""
        return cls(
            bundles=bundles,
            image_uri=image.image_uri,
            function_name=names.publisher_function,
            placement=placement,
            vpc_id=network.vpc_id,
            s3_prefix_list_id=network.s3_prefix_list_id,
            architecture=config.function.architecture,
            log_retention_days=config.observability.log_retention_days,
            environment=common_environment(config.observability),
            allow_deletion=config.storage.allow_deletion,
            # A new messages access point (the upgrade to one identity per function) runs the publisher again,
            # which makes the messages written by the old identity writable by the new one.
            republish_triggers={
                "file_system_id": file_system.file_system_id,
                "messages_access_point": file_system.messages_access_point_arn,
            },
            invoke_after=[file_system.mount_targets_resolvable, *message_writers],
        )


def publisher_statements(bucket_arn: str) -> list[Statement]:
    """Read every model's files (`efs-models publish` brings models that are not in modelDirs), and write each
    model's LATEST object once LATEST has moved on EFS (where the jobs' catalog reads which version serves)."""
    return [
        *s3_read_statements(bucket_arn, [MODELS_PREFIX]),
        {
            "Sid": "WriteLatestVersions",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": f"{bucket_arn}/{latest_key('*')}",
        },
    ]


def validate_model_publisher_args(args: ModelPublisherArgs) -> None:
    if not args.bundles or not all(bundle.files for bundle in args.bundles):
        raise ValueError("ModelPublisherArgs.bundles must hold at least one bundle, each with at least one file")
    names = [bundle.name for bundle in args.bundles]
    if len(set(names)) != len(names):
        raise ValueError(f"ModelPublisherArgs.bundles must hold different models, got {names}")
    if "content_sha256" in args.republish_triggers:
        raise ValueError("ModelPublisherArgs.republish_triggers must not redefine content_sha256")


class ModelPublisher(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    latest_objects_arn: pulumi.Output[str]  # each model's LATEST object, which only the publisher writes
    function_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: ModelPublisherArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_model_publisher_args(args)
        super().__init__("efs-inference:model_publisher:ModelPublisher", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bundles = args.bundles

        self.bucket = aws.s3.Bucket(name, force_destroy=args.allow_deletion, opts=child)
        bucket_settings = self._make_private(name)
        self.objects = {
            bundle.name: [
                aws.s3.BucketObjectv2(
                    f"{name}-{bundle.name}-{item.name}",
                    bucket=self.bucket.id,
                    key=f"{bundle.s3_prefix}{item.name}",
                    source=pulumi.FileAsset(item.path),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=bucket_settings),
                )
                for item in bundle.files
            ]
            for bundle in bundles
        }
        # The publisher also reads S3 (through the gateway endpoint or NAT).
        s3_access = args.placement.with_https_to_s3(
            f"{name}-publisher",
            vpc_id=args.vpc_id,
            s3_prefix_list_id=args.s3_prefix_list_id,
            description="Model publisher: HTTPS out to S3",
            parent=self,
        )
        self.security_group, self.https_egress = s3_access.security_group, s3_access.https_egress
        self.publisher = EfsFunction(
            f"{name}-publisher",
            EfsFunctionArgs(
                function_name=args.function_name,
                image_uri=args.image_uri,
                placement=s3_access.placement,
                architecture=args.architecture,
                memory_mb=PUBLISHER_MEMORY_MB,
                timeout_seconds=PUBLISHER_TIMEOUT_SECONDS,
                log_retention_days=args.log_retention_days,
                environment=args.environment,
                command=PUBLISHER_COMMAND,
                extra_statements=self.bucket.arn.apply(publisher_statements),
            ),
            opts=child,
        )
        self.invocations = [
            aws.lambda_.Invocation(
                f"{name}-{bundle.name}",
                function_name=self.publisher.function_name,
                input=pulumi.Output.json_dumps(
                    {
                        "bucket": self.bucket.bucket,
                        "prefix": bundle.s3_prefix,
                        "name": bundle.name,
                        "version": bundle.version,
                        "content_sha256": bundle.content_sha256,
                    }
                ),
                triggers={"content_sha256": bundle.content_sha256, **args.republish_triggers},
                # The files must be in S3, and the way to S3 open (the rule also waits for the VPC's S3 endpoint).
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[
                        *self.objects[bundle.name],
                        self.publisher,
                        self.https_egress,
                        *args.invoke_after,
                    ],
                ),
            )
            for bundle in bundles
        ]
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.latest_objects_arn = self.bucket.arn.apply(lambda arn: f"{arn}/{latest_key('*')}")
        self.function_name = self.publisher.function_name
        self.log_group_name = self.publisher.log_group_name
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "latest_objects_arn": self.latest_objects_arn,
                "function_name": self.function_name,
                "log_group_name": self.log_group_name,
            }
        )

    def _make_private(self, name: str) -> list[pulumi.Resource]:
        """The bucket's settings, which uploads wait for: no public access, no ACLs, TLS only, SSE-S3, versioning
        whose old versions expire (else they pile up, and a destroy that may empty the bucket must delete each)."""
        child = pulumi.ResourceOptions(parent=self)
        versioning = aws.s3.BucketVersioning(
            name,
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_VERSION_DAYS
                    ),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            # Rules about noncurrent versions need versioning on first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        return [*private_bucket_controls(name, self.bucket, self), versioning, lifecycle]
