"""The UI's SigV4 signing (API_AUTH=iam), checked by the local API's own verifier: calls through the client are
signed for execute-api with the credentials botocore finds, and nothing else changes them in flight."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from inference.models.publishing import publish_version
from local.sigv4 import KeyPair
from testing.local_stack import Running, start_server, stop
from tests.ui.example_model import EXAMPLE_MODEL_DIR
from ui.api_client import ApiClient, ApiError, SigV4Signer, auth_from_env

KEYS = KeyPair("AKIALOCALTEST0000002", "ui-signing-secret")


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> KeyPair:
    """The local key pair as botocore's environment credentials, and nothing else of this shell's."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS.secret_access_key)
    return KEYS


@pytest.fixture(scope="module")
def iam_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The real handler behind `--auth iam` with KEYS, the example model published."""
    folder = tmp_path_factory.mktemp("signing")
    publish_version(EXAMPLE_MODEL_DIR, folder / "data" / "models", "digits")
    running = start_server(
        folder / "data",
        folder / "api.log",
        "--workers",
        "1",
        "--auth",
        "iam",
        handler="inference.api.handler.lambda_handler",
        env=KEYS.as_env(),
    )
    yield running
    stop(running)


def test_api_auth_chooses_the_signer() -> None:
    """API_AUTH=iam signs for API_REGION; unset or none does not sign; anything else is a configuration error."""
    assert auth_from_env({}) is None and auth_from_env({"API_AUTH": "none"}) is None
    signer = auth_from_env({"API_AUTH": "iam", "API_REGION": "eu-central-1"})
    assert isinstance(signer, SigV4Signer) and signer.region == "eu-central-1"
    with pytest.raises(ValueError, match="API_AUTH must be iam or none"):
        auth_from_env({"API_AUTH": "jwt"})


def test_every_call_of_the_signing_client_passes_the_local_iam_check(iam_api: Running, credentials: KeyPair) -> None:
    """Health, a posted message (JSON body), a paged listing (query), the models and a prediction all pass."""
    client = ApiClient(iam_api.url, auth=SigV4Signer("us-east-1"))
    assert client.health().status in {"ok", "degraded"}
    posted = client.post_message("signed by the UI")
    page = client.list_messages(limit=5)
    assert posted.id in [message.id for message in page.items]
    catalog = client.list_models()
    model = catalog.models[0]
    prediction = client.predict(model.name, [model.samples[0].input])
    assert prediction.model == model.name


def test_an_unsigning_client_and_a_wrongly_keyed_one_are_refused(
    iam_api: Running, monkeypatch: pytest.MonkeyPatch, credentials: KeyPair
) -> None:
    """Without the signer the API answers 403; with another secret too: the UI shows it as an ApiError."""
    with pytest.raises(ApiError, match="403"):
        ApiClient(iam_api.url).health()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ApiError, match="403"):
        ApiClient(iam_api.url, auth=SigV4Signer("us-east-1")).health()


def test_signing_without_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, credentials: KeyPair) -> None:
    """No credentials anywhere: the call fails with a message saying the UI cannot sign, before any request."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    signer = SigV4Signer("us-east-1")
    with pytest.raises(ApiError, match="no AWS credentials"):
        signer(requests.Request("GET", "http://127.0.0.1:9/health").prepare())
