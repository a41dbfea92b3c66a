"""The shared file system under mocks: encryption, retention on destroy, NFS only from its clients, TLS, mount
targets, the access point."""

from __future__ import annotations

import json

import pytest

from infra.storage.file_system import SharedFileSystemArgs, validate_shared_file_system_args
from testing.pulumi_mocks import StackRun
from tests.infra.registered import (
    EGRESS,
    FUNCTION,
    INGRESS,
    MOUNT_TARGET,
    SECURITY_GROUP,
    resource_id,
    statements,
)


def test_nfs_is_admitted_only_from_the_functions_security_group(any_run: StackRun) -> None:
    """The EFS security group has one ingress rule, NFS 2049, whose source is the group every function carries."""
    efs_group = any_run.one(SECURITY_GROUP, "data")
    rules = [rule for rule in any_run.of_type(INGRESS) if rule.inputs["securityGroupId"] == resource_id(efs_group)]
    assert len(rules) == 1, f"{efs_group.urn} should have exactly one ingress rule, has {[r.urn for r in rules]}"
    rule = rules[0]
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (2049, 2049, "tcp"), rule.urn
    assert "cidrIpv4" not in rule.inputs, f"{rule.urn} must not admit an address range"
    for function in any_run.of_type(FUNCTION):
        groups = function.inputs["vpcConfig"]["securityGroupIds"]
        assert rule.inputs["referencedSecurityGroupId"] in groups, f"{function.urn} is not in the NFS rule's source"
    assert any_run.one(FUNCTION, "api").inputs["vpcConfig"]["securityGroupIds"] == ["data-client-id"]


def test_mount_targets_wait_for_the_nfs_rules_and_the_tls_policy(any_run: StackRun) -> None:
    """A mount target (and so every function, which waits for them) exists only once NFS is admitted both ways and
    the TLS-only policy is in force."""
    needed = {
        any_run.one(EGRESS, "data-client-nfs").urn,
        any_run.one(INGRESS, "data-nfs-from-clients").urn,
        any_run.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "data").urn,
    }
    for target in any_run.of_type(MOUNT_TARGET):
        missing = needed - set(target.dependencies)
        assert not missing, f"{target.urn} does not wait for {sorted(missing)}"


def test_file_system_is_encrypted_general_purpose_elastic_with_infrequent_access(any_run: StackRun) -> None:
    """EFS: encrypted at rest, General Purpose, elastic throughput, files move to IA and back on access."""
    file_system = any_run.one("aws:efs/fileSystem:FileSystem", "data")
    assert file_system.inputs["encrypted"] is True, file_system.urn
    assert file_system.inputs["performanceMode"] == "generalPurpose", file_system.urn
    assert file_system.inputs["throughputMode"] == "elastic", file_system.urn
    assert {"transitionToIa": "AFTER_30_DAYS"} in file_system.inputs["lifecyclePolicies"], file_system.urn


def test_file_system_is_retained_unless_deletion_is_allowed(dev_run: StackRun, prod_run: StackRun) -> None:
    """dev (allowDeletion) lets destroy delete the file system; prod retains it and its data."""
    assert not dev_run.one("aws:efs/fileSystem:FileSystem", "data").retain_on_delete
    assert prod_run.one("aws:efs/fileSystem:FileSystem", "data").retain_on_delete


def test_access_point_is_the_old_apps(any_run: StackRun) -> None:
    """/export/lambda, POSIX uid/gid 1001, created with permissions 750."""
    access_point = any_run.one("aws:efs/accessPoint:AccessPoint", "data")
    assert access_point.inputs["posixUser"] == {"uid": 1001, "gid": 1001}
    assert access_point.inputs["rootDirectory"] == {
        "path": "/export/lambda",
        "creationInfo": {"ownerUid": 1001, "ownerGid": 1001, "permissions": "750"},
    }


def test_file_system_policy_denies_access_without_tls(any_run: StackRun) -> None:
    """The file-system policy denies every client action when aws:SecureTransport is false."""
    policy = any_run.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "data")
    [statement] = statements(policy)
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "elasticfilesystem:ClientMount" in statement["Action"]


def test_one_mount_target_per_private_subnet_behind_the_efs_group(any_run: StackRun) -> None:
    """A mount target in each private subnet, each in the EFS security group."""
    zones = int(any_run.one("awsx:ec2:Vpc").inputs["numberOfAvailabilityZones"])
    targets = any_run.of_type(MOUNT_TARGET)
    assert sorted(target.inputs["subnetId"] for target in targets) == [f"subnet-private{i}" for i in range(zones)]
    for target in targets:
        assert target.inputs["securityGroups"] == ["data-id"], target.urn


def test_existing_file_system_is_mounted_not_created(existing_run: StackRun) -> None:
    """existingFileSystemId: no new file system; the mount targets, access point, policy and IAM name that one."""
    assert not existing_run.of_type("aws:efs/fileSystem:FileSystem")
    for type_token in (
        "aws:efs/mountTarget:MountTarget",
        "aws:efs/accessPoint:AccessPoint",
        "aws:efs/fileSystemPolicy:FileSystemPolicy",
    ):
        for item in existing_run.of_type(type_token):
            assert item.inputs["fileSystemId"] == "fs-0123456789abcdef0", item.urn
    assert existing_run.outputs["efs_id"] == "fs-0123456789abcdef0"
    policy = json.loads(existing_run.one("aws:iam/rolePolicy:RolePolicy", "api").inputs["policy"])
    mount = next(statement for statement in policy["Statement"] if statement["Sid"] == "MountThroughAccessPoint")
    assert mount["Resource"].endswith("file-system/fs-0123456789abcdef0")


def test_file_system_needs_a_subnet_and_a_known_throughput_mode() -> None:
    """SharedFileSystemArgs: at least one subnet; throughput elastic or bursting."""
    with pytest.raises(ValueError, match="subnet_count must be at least 1"):
        validate_shared_file_system_args(SharedFileSystemArgs(vpc_id="v", subnet_ids=[], subnet_count=0))
    with pytest.raises(ValueError, match="throughput_mode must be one of elastic, bursting"):
        validate_shared_file_system_args(
            SharedFileSystemArgs(vpc_id="v", subnet_ids=["s"], subnet_count=1, throughput_mode="max")
        )


def test_each_function_identity_has_its_own_access_point_on_the_same_root(any_run: StackRun) -> None:
    """Beside the old app's access point (uid 1001, the models' owner), one for the messages' writer (uid 1002)
    and one for readers (uid 1003), all in group 1001 on the old root, each creating it as the old one did."""
    old = any_run.one("aws:efs/accessPoint:AccessPoint", "data")
    for name, uid in (("data-messages", 1002), ("data-reader", 1003)):
        access_point = any_run.one("aws:efs/accessPoint:AccessPoint", name)
        assert access_point.inputs["posixUser"] == {"uid": uid, "gid": 1001}, access_point.urn
        assert access_point.inputs["rootDirectory"] == old.inputs["rootDirectory"], access_point.urn
        assert access_point.inputs["fileSystemId"] == old.inputs["fileSystemId"]


def test_a_new_messages_access_point_runs_the_publisher_again(any_run: StackRun) -> None:
    """The publisher shares messages/ with the new identity: adding the access point re-runs it (the upgrade)."""
    messages = any_run.one("aws:efs/accessPoint:AccessPoint", "data-messages")
    for invocation in any_run.of_type("aws:lambda/invocation:Invocation"):
        assert invocation.inputs["triggers"]["messages_access_point"].endswith(f"/{messages.name}-id"), invocation.urn
