"""The local AWS_IAM check on plain values: requests signed by botocore with the local key pair pass; unsigned,
tampered, wrongly keyed, stale or half-signed ones get API Gateway's 403 and its message."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.events import Headers
from local.sigv4 import KeyPair, SigV4Verifier, parse_authorization

KEYS = KeyPair("AKIALOCALTEST0000001", "local-secret-for-tests")
HOST = "127.0.0.1:8080"
REGION = "us-east-1"


def signed(
    method: str,
    target: str,
    body: bytes = b"",
    *,
    keys: KeyPair = KEYS,
    region: str = REGION,
    headers: dict[str, str] | None = None,
) -> Headers:
    """The headers a botocore-signed request carries (as the UI sends them), Host included."""
    request = AWSRequest(method=method, url=f"http://{HOST}{target}", data=body, headers=headers or {})
    SigV4Auth(Credentials(keys.access_key_id, keys.secret_access_key), "execute-api", region).add_auth(request)
    return [("Host", HOST), *request.headers.items()]


def verifier(clock_offset: timedelta = timedelta()) -> SigV4Verifier:
    return SigV4Verifier(KEYS, REGION, clock=lambda: datetime.now(UTC) + clock_offset)


def message(response_body: bytes) -> str:
    text: str = json.loads(response_body)["message"]
    return text


def test_a_signed_request_passes() -> None:
    """GET with a query and POST with a JSON body, signed with the local pair, are let through."""
    assert (
        verifier().check("GET", "/messages?limit=10&cursor=abc", signed("GET", "/messages?limit=10&cursor=abc"), b"")
        is None
    )
    body = b'{"text": "hello"}'
    headers = signed("POST", "/messages", body, headers={"Content-Type": "application/json"})
    assert verifier().check("POST", "/messages", headers, body) is None


def test_an_unsigned_request_gets_forbidden() -> None:
    """No Authorization header: 403 {"message": "Forbidden"}, API Gateway's ForbiddenException."""
    refused = verifier().check("GET", "/health", [("Host", HOST)], b"")
    assert refused is not None and refused.status == 403
    assert refused.body == b'{"message":"Forbidden"}'
    assert ("x-amzn-ErrorType", "ForbiddenException") in refused.headers
    assert ("content-type", "application/json") in refused.headers


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("POST", "/messages", b'{"text": "tampered"}'),  # another body
        ("POST", "/models/digits/predict", b'{"text": "hello"}'),  # another path
        ("POST", "/messages?limit=1", b'{"text": "hello"}'),  # a query added
        ("GET", "/messages", b'{"text": "hello"}'),  # another method
    ],
)
def test_a_tampered_request_does_not_match_its_signature(method: str, target: str, body: bytes) -> None:
    """A signature made for POST /messages with one body does not cover another body, path, query or method."""
    headers = signed("POST", "/messages", b'{"text": "hello"}')
    refused = verifier().check(method, target, headers, body)
    assert refused is not None and refused.status == 403
    assert message(refused.body).startswith("The request signature we calculated does not match")


def test_a_tampered_signed_header_does_not_match() -> None:
    """Changing a signed header's value (here content-type) after signing breaks the signature."""
    headers = signed("POST", "/", b"Hello World", headers={"Content-Type": "text/plain"})
    changed = [(name, "application/json" if name == "Content-Type" else value) for name, value in headers]
    refused = verifier().check("POST", "/", changed, b"Hello World")
    assert refused is not None and "does not match" in message(refused.body)


def test_a_wrong_key_is_refused() -> None:
    """Another access key id is unknown to the local API; the right id with another secret does not match."""
    stranger = signed("GET", "/health", keys=KeyPair("AKIAOTHER00000000000", KEYS.secret_access_key))
    refused = verifier().check("GET", "/health", stranger, b"")
    assert refused is not None and message(refused.body) == "The security token included in the request is invalid."
    wrong_secret = signed("GET", "/health", keys=KeyPair(KEYS.access_key_id, "not-the-secret"))
    refused = verifier().check("GET", "/health", wrong_secret, b"")
    assert refused is not None and "does not match" in message(refused.body)


def test_a_stale_or_future_date_is_refused() -> None:
    """Signed more than 5 minutes before (or after) the server's clock: Signature expired / not yet current."""
    headers = signed("GET", "/health")
    stale = verifier(clock_offset=timedelta(minutes=6)).check("GET", "/health", headers, b"")
    assert stale is not None and message(stale.body).startswith("Signature expired: ")
    early = verifier(clock_offset=timedelta(minutes=-6)).check("GET", "/health", headers, b"")
    assert early is not None and message(early.body).startswith("Signature not yet current: ")
    assert verifier(clock_offset=timedelta(minutes=4)).check("GET", "/health", headers, b"") is None


def test_a_signature_for_another_region_is_refused() -> None:
    """The credential scope must name the server's region."""
    refused = verifier().check("GET", "/health", signed("GET", "/health", region="eu-west-1"), b"")
    assert refused is not None and "valid region" in message(refused.body)


def test_a_declared_payload_hash_must_be_the_bodys() -> None:
    """x-amz-content-sha256 is signed, but a value that is not the body's hash cannot vouch for another body."""
    declared = hashlib.sha256(b"signed body").hexdigest()
    headers = signed("POST", "/messages", b"signed body", headers={"X-Amz-Content-SHA256": declared})
    assert verifier().check("POST", "/messages", headers, b"signed body") is None
    refused = verifier().check("POST", "/messages", headers, b"other body")
    assert refused is not None and "does not match" in message(refused.body)


def test_session_tokens_are_unknown_locally() -> None:
    """The local stack issues no temporary credentials, so a request carrying a token is refused."""
    headers = signed("GET", "/health", headers={"X-Amz-Security-Token": "token"})
    refused = verifier().check("GET", "/health", headers, b"")
    assert refused is not None and "security token" in message(refused.body)


def test_host_must_be_signed_and_the_header_complete() -> None:
    """SignedHeaders without host, or an Authorization header missing a part, are refused as incomplete."""
    headers = [(n, v.replace("SignedHeaders=host;", "SignedHeaders=")) for n, v in signed("GET", "/health")]
    refused = verifier().check("GET", "/health", headers, b"")
    assert refused is not None and message(refused.body) == "'Host' must be a 'SignedHeader' in the AWS Authorization."
    incomplete = parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AKIALOCALTEST0000001/20260101/us-east-1/execute-api/aws4_request"
    )
    assert isinstance(incomplete, tuple)
    assert "requires 'SignedHeaders' parameter" in incomplete[1] and "requires 'Signature' parameter" in incomplete[1]


def test_generated_key_pairs_are_aws_shaped_and_fresh() -> None:
    """A 20-character key id and a secret of 40 characters, different each time; from_env reads them back."""
    first, second = KeyPair.generate(), KeyPair.generate()
    assert len(first.access_key_id) == 20 and first.access_key_id.startswith("AKIA")
    assert len(first.secret_access_key) == 40 and first != second
    assert KeyPair.from_env(first.as_env()) == first
    assert KeyPair.from_env({}) is None


@pytest.mark.parametrize("replayed", ["/health#x", "/health?x#y", "/x/../health", "/./health", "//health", "/a/./b"])
def test_a_path_that_normalises_differently_or_a_fragment_is_refused(replayed: str) -> None:
    """botocore signs the normalised path (dots resolved, empty segments and the fragment dropped), while the
    request is served on its raw path: such a path is refused even with a signature that recomputes."""
    headers = signed("GET", replayed)
    refused = verifier().check("GET", replayed, headers, b"")
    assert refused is not None and refused.status == 403
    assert message(refused.body).startswith("The request path is not in canonical form")
    assert verifier().check("GET", "/health/", signed("GET", "/health/"), b"") is None  # a trailing slash is canonical
