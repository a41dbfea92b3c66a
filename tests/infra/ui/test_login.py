"""The UI's Cognito sign-in under mocks."""

from __future__ import annotations

from testing.pulumi_mocks import StackRun


def test_cognito_login_signs_users_in_before_the_ui(cognito_run: StackRun) -> None:
    """uiLogin cognito: a pool only admins add users to, a code-flow client calling back to the UI's domain, and an
    HTTPS listener that authenticates (order 1) before it forwards (order 2); the ALB may reach Cognito over HTTPS."""
    pool = cognito_run.one("aws:cognito/userPool:UserPool", "ui-login")
    assert pool.inputs["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}
    client = cognito_run.one("aws:cognito/userPoolClient:UserPoolClient", "ui-login").inputs
    assert client["callbackUrls"] == ["https://ui.example.com/oauth2/idpresponse"]
    assert client["allowedOauthFlows"] == ["code"] and client["generateSecret"] is True
    domain = cognito_run.one("aws:cognito/userPoolDomain:UserPoolDomain", "ui-login").inputs["domain"]
    assert domain.startswith("efs-inference-prod-")
    sign_in, forward = cognito_run.one("aws:lb/listener:Listener", "ui-https").inputs["defaultActions"]
    assert (sign_in["type"], sign_in["order"], forward["type"], forward["order"]) == (
        "authenticate-cognito",
        1,
        "forward",
        2,
    )
    assert sign_in["authenticateCognito"]["userPoolDomain"] == domain
    egress = cognito_run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "ui-to-idp").inputs
    assert (egress["securityGroupId"], egress["fromPort"]) == ("ui-id", 443)
    assert cognito_run.outputs["ui_url"] == "https://ui.example.com"
    assert "ui_user_pool_id" in cognito_run.outputs
