"""Sign-in in front of the UI (`uiLogin: cognito`): a Cognito user pool whose users an administrator creates
(no self sign-up), its hosted sign-in page on a domain prefix of the stack's, and an OAuth client for the
UI's load balancer, which runs the sign-in (authenticate-cognito) before any request reaches Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.limits import COGNITO_DOMAIN_PREFIX, COGNITO_RESERVED_WORDS
from infra.config.names import StackNames
from infra.config.schema import UiAccessConfig

# Where an ALB receives the identity provider's answer: fixed by Elastic Load Balancing.
ALB_CALLBACK_PATH = "/oauth2/idpresponse"
MIN_PASSWORD_LENGTH = 12


@dataclass
class UiLoginArgs:
    domain_name: str  # the UI's own name, where the load balancer takes the sign-in's answer
    domain_prefix: str  # <prefix>.auth.<region>.amazoncognito.com serves the sign-in page

    @classmethod
    def from_config(cls, config: UiAccessConfig, names: StackNames) -> UiLoginArgs:
        """On the UI's domain name; the sign-in page's prefix is the stack's, made unique by that name."""
        return cls(domain_name=config.domain_name, domain_prefix=names.cognito_domain_prefix(config.domain_name))


def validate_ui_login_args(args: UiLoginArgs) -> None:
    if not args.domain_name:
        raise ValueError("UiLoginArgs.domain_name must be the UI's DNS name")
    if not COGNITO_DOMAIN_PREFIX.fullmatch(args.domain_prefix) or any(
        word in args.domain_prefix for word in COGNITO_RESERVED_WORDS
    ):
        raise ValueError(
            "UiLoginArgs.domain_prefix must be 1 to 63 of a-z, 0-9 and '-' (not first or last) and contain no "
            f"{', '.join(repr(word) for word in COGNITO_RESERVED_WORDS)}, not {args.domain_prefix!r}"
        )


class UiLogin(pulumi.ComponentResource):
    """Hand `user_pool_arn`, `client_id` and `domain_prefix` to the load balancer's authenticate-cognito action."""

    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    client_id: pulumi.Output[str]
    domain_prefix: pulumi.Output[str]

    def __init__(self, name: str, args: UiLoginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_ui_login_args(args)
        super().__init__("efs-inference:ui_login:UiLogin", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.user_pool = aws.cognito.UserPool(
            name,
            # Only people an administrator adds may sign in: the UI reaches the API with its own role.
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=MIN_PASSWORD_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=False,
                temporary_password_validity_days=3,
            ),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
            opts=child,
        )
        self.client = aws.cognito.UserPoolClient(
            name,
            user_pool_id=self.user_pool.id,
            generate_secret=True,  # the load balancer is a confidential client
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=["openid", "email"],
            supported_identity_providers=["COGNITO"],
            callback_urls=[f"https://{args.domain_name}{ALB_CALLBACK_PATH}"],
            explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            opts=child,
        )
        self.domain = aws.cognito.UserPoolDomain(
            name, domain=args.domain_prefix, user_pool_id=self.user_pool.id, opts=child
        )
        self.user_pool_id = self.user_pool.id
        self.user_pool_arn = self.user_pool.arn
        self.client_id = self.client.id
        self.domain_prefix = self.domain.domain
        self.register_outputs(
            {
                "user_pool_id": self.user_pool_id,
                "user_pool_arn": self.user_pool_arn,
                "client_id": self.client_id,
                "domain_prefix": self.domain_prefix,
            }
        )
