"""The shared file system: EFS (new, or an existing one by id), a mount target per private subnet, three
access points onto the same data root, a TLS-only file-system policy, and the security groups that let only
the functions in.

A Lambda function mounts one access point, so each access point is an identity (docs/STORAGE.md, "Who may
write what"): `data`, the old app's (uid 1001, which owns the root and models/), for the model publisher;
`data-messages` (uid 1002 in group 1001) for the API function and retention, which may write messages/ (the
publisher keeps it group-writable) but not models/ or the root; `data-reader` (uid 1003 in group 1001) for
the job worker, mounted read-only because its role has no elasticfilesystem:ClientWrite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumiverse_time as time

from infra.building_blocks.iam import deny_insecure_transport_document
from infra.building_blocks.security_groups import allow_between_groups
from infra.config.limits import EFS_THROUGHPUT_MODES
from infra.config.schema import StorageConfig
from infra.network.network import Network

NFS_PORT = 2049
# The old app's access point, kept so data written by it lines up: its uid owns the data root and models/.
ACCESS_POINT_PATH = "/export/lambda"
POSIX_ID = 1001
ACCESS_POINT_PERMISSIONS = "750"
# The other identities on the same root, in the owner's group: they read what the group may read, and write
# only where the group may write (messages/, which the publisher keeps group-writable).
MESSAGES_POSIX_UID = 1002
READER_POSIX_UID = 1003
# A new mount target is "available" before its DNS name resolves in the VPC: AWS gives up to 90 s. A function
# invoked sooner fails with EFSMountFailureException.
MOUNT_TARGET_DNS_SECONDS = 90


@dataclass
class SharedFileSystemArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    subnet_count: int
    throughput_mode: str = "elastic"
    transition_to_ia: str = "AFTER_30_DAYS"
    existing_file_system_id: str | None = None
    allow_deletion: bool = False  # otherwise `pulumi destroy` leaves the file system (and its data) in place

    @classmethod
    def from_config(cls, config: StorageConfig, network: Network) -> SharedFileSystemArgs:
        """Mount targets in the network's private subnets, where the functions run."""
        return cls(
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            subnet_count=network.private_subnet_count,
            throughput_mode=config.efs_throughput_mode,
            transition_to_ia=config.efs_transition_to_ia,
            existing_file_system_id=config.existing_file_system_id or None,
            allow_deletion=config.allow_deletion,
        )


def validate_shared_file_system_args(args: SharedFileSystemArgs) -> None:
    if args.subnet_count < 1:
        raise ValueError(f"SharedFileSystemArgs.subnet_count must be at least 1, not {args.subnet_count}")
    if args.throughput_mode not in EFS_THROUGHPUT_MODES:
        raise ValueError(
            f"SharedFileSystemArgs.throughput_mode must be one of {', '.join(EFS_THROUGHPUT_MODES)}, "
            f"not {args.throughput_mode!r}"
        )


class SharedFileSystem(pulumi.ComponentResource):
    """Attach `client_security_group_id` to anything that mounts it: the NFS port admits that group only."""

    file_system_id: pulumi.Output[str]
    file_system_arn: pulumi.Output[str]
    access_point_arn: pulumi.Output[str]  # uid 1001: the data root's and models/' owner (the publisher)
    messages_access_point_arn: pulumi.Output[str]  # uid 1002: writes messages/ only (the API function, retention)
    reader_access_point_arn: pulumi.Output[str]  # uid 1003: reads (the job worker, whose role may not write)
    client_security_group_id: pulumi.Output[str]
    mount_targets: list[aws.efs.MountTarget]
    mount_targets_resolvable: pulumi.Resource  # created once every mount target's DNS name has had time to resolve

    def __init__(self, name: str, args: SharedFileSystemArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_shared_file_system_args(args)
        super().__init__("efs-inference:file_system:SharedFileSystem", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.file_system_id, self.file_system_arn = self._file_system(name, args)

        self.security_group = aws.ec2.SecurityGroup(
            name, vpc_id=args.vpc_id, description="EFS mount targets: NFS from the functions only", opts=child
        )
        self.client_security_group = aws.ec2.SecurityGroup(
            f"{name}-client", vpc_id=args.vpc_id, description="Clients of the shared file system", opts=child
        )
        self.client_security_group_id = self.client_security_group.id
        self.nfs_egress, self.nfs_ingress = allow_between_groups(
            NFS_PORT,
            source_group_id=self.client_security_group.id,
            target_group_id=self.security_group.id,
            egress_name=f"{name}-client-nfs",
            ingress_name=f"{name}-nfs-from-clients",
            description="NFS between the shared file system and its clients",
            parent=self,
        )

        self.policy = aws.efs.FileSystemPolicy(
            name,
            file_system_id=self.file_system_id,
            policy=self.file_system_arn.apply(lambda arn: json.dumps(deny_insecure_transport_document(arn))),
            opts=child,
        )
        self.mount_targets = [
            aws.efs.MountTarget(
                f"{name}-{index}",
                file_system_id=self.file_system_id,
                subnet_id=_nth(args.subnet_ids, index),
                security_groups=[self.security_group.id],
                # A client may mount as soon as a mount target exists: NFS must be admitted and TLS required by then.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.nfs_egress, self.nfs_ingress, self.policy]),
            )
            for index in range(args.subnet_count)
        ]
        # Waits on create, and again whenever a mount target is replaced; an `up` with no change waits not at all.
        self.mount_targets_resolvable = time.Sleep(
            f"{name}-mount-dns",
            create_duration=f"{MOUNT_TARGET_DNS_SECONDS}s",
            triggers={f"mount_target_{index}": target.id for index, target in enumerate(self.mount_targets)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.mount_targets),
        )
        self.access_point = self._access_point(name, POSIX_ID)
        self.access_point_arn = self.access_point.arn
        self.messages_access_point = self._access_point(f"{name}-messages", MESSAGES_POSIX_UID)
        self.messages_access_point_arn = self.messages_access_point.arn
        self.reader_access_point = self._access_point(f"{name}-reader", READER_POSIX_UID)
        self.reader_access_point_arn = self.reader_access_point.arn
        self.register_outputs(
            {
                "file_system_id": self.file_system_id,
                "file_system_arn": self.file_system_arn,
                "access_point_arn": self.access_point_arn,
                "messages_access_point_arn": self.messages_access_point_arn,
                "reader_access_point_arn": self.reader_access_point_arn,
                "client_security_group_id": self.client_security_group_id,
            }
        )

    def _access_point(self, name: str, uid: int) -> aws.efs.AccessPoint:
        """An identity on the data root; every one would create the root as the old app's did, whichever
        mounts first on a new file system."""
        return aws.efs.AccessPoint(
            name,
            file_system_id=self.file_system_id,
            posix_user=aws.efs.AccessPointPosixUserArgs(uid=uid, gid=POSIX_ID),
            root_directory=aws.efs.AccessPointRootDirectoryArgs(
                path=ACCESS_POINT_PATH,
                creation_info=aws.efs.AccessPointRootDirectoryCreationInfoArgs(
                    owner_uid=POSIX_ID, owner_gid=POSIX_ID, permissions=ACCESS_POINT_PERMISSIONS
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _file_system(self, name: str, args: SharedFileSystemArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        if args.existing_file_system_id:
            existing = aws.efs.get_file_system_output(
                file_system_id=args.existing_file_system_id, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            return existing.file_system_id, existing.arn
        self.file_system = aws.efs.FileSystem(
            name,
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode=args.throughput_mode,
            lifecycle_policies=[
                aws.efs.FileSystemLifecyclePolicyArgs(transition_to_ia=args.transition_to_ia),
                # Models are read again and again: one read brings a file back to the faster, cheaper-to-read class.
                aws.efs.FileSystemLifecyclePolicyArgs(transition_to_primary_storage_class="AFTER_1_ACCESS"),
            ],
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=not args.allow_deletion),
        )
        return self.file_system.id, self.file_system.arn


def _nth(values: pulumi.Input[Sequence[str]], index: int) -> pulumi.Output[str]:
    return pulumi.Output.from_input(values).apply(lambda resolved: resolved[index])
