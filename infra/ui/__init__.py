"""The Streamlit UI (optional): its load balancer, an optional Cognito sign-in, and the Fargate service."""

from infra.ui.load_balancer import UiLoadBalancer, UiLoadBalancerArgs
from infra.ui.login import UiLogin, UiLoginArgs
from infra.ui.streamlit_service import StreamlitService, StreamlitServiceArgs

__all__ = ["StreamlitService", "StreamlitServiceArgs", "UiLoadBalancer", "UiLoadBalancerArgs", "UiLogin", "UiLoginArgs"]
