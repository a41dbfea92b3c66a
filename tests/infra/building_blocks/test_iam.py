"""The IAM documents, read directly: least privilege, no wildcard actions."""

from __future__ import annotations

from infra.building_blocks.iam import (
    ENI_ACTIONS,
    deny_insecure_bucket_transport_document,
    deny_insecure_transport_document,
    efs_client_statements,
    eni_statements,
    log_statements,
    s3_read_statements,
)
from testing.pulumi_mocks import StackRun
from tests.infra.registered import (
    ROLE_POLICY,
    as_list,
    statements,
)

ALL_STATEMENTS = [
    *log_statements("arn:aws:logs:eu-central-1:1:log-group:/aws/lambda/f"),
    *efs_client_statements("arn:fs", "arn:ap"),
    *eni_statements(),
    *s3_read_statements("arn:aws:s3:::bucket", ["models/digits/1/"]),
]


def test_no_statement_allows_a_wildcard_action() -> None:
    """Every Allow statement lists explicit actions only."""
    for statement in ALL_STATEMENTS:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"]), statement


def test_only_network_interface_actions_apply_to_every_resource() -> None:
    """Resource '*' appears only on the ENI statement, whose actions AWS cannot scope."""
    unscoped = [statement["Sid"] for statement in ALL_STATEMENTS if statement["Resource"] == "*"]
    assert unscoped == ["VpcNetworkInterfaces"]


def test_efs_access_requires_the_access_point() -> None:
    """ClientMount/ClientWrite on the file system, conditioned on this access point, and no root access."""
    [statement] = efs_client_statements("arn:fs", "arn:ap")
    assert statement["Condition"] == {"StringEquals": {"elasticfilesystem:AccessPointArn": "arn:ap"}}
    assert "elasticfilesystem:ClientRootAccess" not in statement["Action"]


def test_s3_reads_are_limited_to_the_prefixes_in_one_statement_of_each_kind() -> None:
    """Objects are readable under the prefixes only, listing is conditioned on the same prefixes, and however many
    prefixes there are, each statement id appears once (IAM refuses a policy that repeats one)."""
    listing, reading = s3_read_statements("arn:aws:s3:::bucket", ["models/digits/1/", "models/minilm/1/"])
    assert reading["Resource"] == ["arn:aws:s3:::bucket/models/digits/1/*", "arn:aws:s3:::bucket/models/minilm/1/*"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["models/digits/1/*", "models/minilm/1/*"]}}
    assert listing["Sid"] != reading["Sid"]


def test_file_system_policy_denies_every_client_action_without_tls() -> None:
    """The only statement denies mount, write and root access when the transport is not TLS."""
    [statement] = deny_insecure_transport_document("arn:fs")["Statement"]
    assert statement["Effect"] == "Deny"
    assert set(statement["Action"]) == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientRootAccess",
    }
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_policy_denies_every_request_without_tls() -> None:
    """The model bucket's only statement denies any S3 action on the bucket and its objects over plain HTTP."""
    [statement] = deny_insecure_bucket_transport_document("arn:aws:s3:::bucket")["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Deny", "s3:*")
    assert statement["Resource"] == ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_iam_policies_have_no_wildcard_actions(any_run: StackRun) -> None:
    """No action contains '*'; only the ENI actions (which cannot be scoped) have Resource '*'."""
    policies = any_run.of_type(ROLE_POLICY)
    assert len(policies) == (3 if any_run.stack == "prod" else 2)  # prod adds the UI task role's
    for policy in policies:
        for statement in statements(policy):
            actions = as_list(statement["Action"])
            assert not [action for action in actions if "*" in action], f"{policy.urn}: {statement}"
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= set(ENI_ACTIONS), f"{policy.urn} grants {actions} on every resource"


def test_a_read_only_efs_client_gets_no_client_write() -> None:
    """Without elasticfilesystem:ClientWrite EFS mounts the access point read-only: the reader's statement."""
    [statement] = efs_client_statements("arn:fs", "arn:ap", write=False)
    assert statement["Action"] == ["elasticfilesystem:ClientMount"]
