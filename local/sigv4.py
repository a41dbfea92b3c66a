"""API Gateway's AWS_IAM authorization for the local stack: every request must carry a SigV4 signature made
with the local key pair, or it is refused with 403 before the function runs, as on AWS.

The signature is recomputed with botocore's own SigV4 signer (canonical request, string to sign, signing
key), never by hand, from the request exactly as it arrived: method, raw path and query, the headers the
client says it signed, and the SHA-256 of the body. The signer normalises the path it signs (``.``, ``..`` and
empty segments resolved, a ``#fragment`` dropped) while the request is served on its raw path, so a path that
normalises to another one, or carries a fragment, is refused before any signature is compared: otherwise a
signed ``GET /health`` could be replayed as ``GET /health#x`` or ``/x/../health`` onto the old app's listing.
The answers are API Gateway's: 403 with a `{"message": ...}` body and an `x-amzn-ErrorType` header. Sources
and differences: docs/LOCAL.md."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

from local.events import Headers, HttpResponse

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
DEFAULT_REGION = "us-east-1"
MAX_CLOCK_SKEW = timedelta(minutes=5)  # how far x-amz-date may be from the server's clock, either way
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# Where `make dev` hands the key pair to the server and the UI.
ACCESS_KEY_ENV = "LOCAL_API_ACCESS_KEY_ID"
SECRET_KEY_ENV = "LOCAL_API_SECRET_ACCESS_KEY"

# API Gateway's texts for each refusal, with the x-amzn-ErrorType it sends.
FORBIDDEN = ("ForbiddenException", "Forbidden")
UNKNOWN_KEY = ("UnrecognizedClientException", "The security token included in the request is invalid.")
MISMATCH = (
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details.",
)
HOST_NOT_SIGNED = ("IncompleteSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
NO_DATE = (
    "IncompleteSignatureException",
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
)
NOT_CANONICAL = (
    "InvalidSignatureException",
    "The request path is not in canonical form (a '.', '..' or empty segment, or a '#fragment'): its signature "
    "would cover another path than the one served.",
)
Refusal = tuple[str, str]


@dataclass(frozen=True)
class KeyPair:
    """The one identity the local API accepts, standing in for an IAM user's access key."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh pair shaped like AWS's: a 20-character key id and a 40-character secret."""
        alphabet = string.ascii_uppercase + string.digits
        key_id = "AKIALOCAL" + "".join(secrets.choice(alphabet) for _ in range(11))
        return cls(key_id, secrets.token_urlsafe(30))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KeyPair | None:
        env = os.environ if env is None else env
        key_id, secret = env.get(ACCESS_KEY_ENV), env.get(SECRET_KEY_ENV)
        return cls(key_id, secret) if key_id and secret else None

    def as_env(self) -> dict[str, str]:
        return {ACCESS_KEY_ENV: self.access_key_id, SECRET_KEY_ENV: self.secret_access_key}


@dataclass(frozen=True)
class Authorization:
    """The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: list[str]
    signature: str


def refusal_response(refusal: Refusal) -> HttpResponse:
    error_type, message = refusal
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(403, [("content-type", "application/json"), ("x-amzn-ErrorType", error_type)], body)


class SigV4Verifier:
    def __init__(
        self, keys: KeyPair, region: str = DEFAULT_REGION, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.keys = keys
        self.region = region
        self._clock = clock or (lambda: datetime.now(UTC))

    def check(self, method: str, target: str, headers: Headers, body: bytes) -> HttpResponse | None:
        """None if the request is signed with the local key pair, else the 403 API Gateway would answer."""
        refusal = self.refusal(method, target, headers, body)
        return None if refusal is None else refusal_response(refusal)

    def refusal(self, method: str, target: str, headers: Headers, body: bytes) -> Refusal | None:
        path = target.partition("?")[0]
        if "#" in target or normalize_url_path(path) != path:
            return NOT_CANONICAL
        lowered = [(name.lower(), value) for name, value in headers]
        values: dict[str, list[str]] = {}
        for name, value in lowered:
            values.setdefault(name, []).append(value)
        header = values.get("authorization", [""])[0]
        if not header.startswith(ALGORITHM + " "):
            return FORBIDDEN
        parsed = parse_authorization(header)
        if isinstance(parsed, tuple):
            return parsed
        if parsed.access_key_id != self.keys.access_key_id or "x-amz-security-token" in values:
            return UNKNOWN_KEY  # the local stack issues no session tokens
        amz_date = values.get("x-amz-date", [""])[0]
        if not amz_date:
            return NO_DATE
        problem = self._scope_problem(parsed, amz_date)
        if problem:
            return problem
        if "host" not in parsed.signed_headers:
            return HOST_NOT_SIGNED
        declared_hash = values.get("x-amz-content-sha256", [None])[0]
        if declared_hash is not None and declared_hash != hashlib.sha256(body).hexdigest():
            return MISMATCH  # a declared payload hash is signed, but must also be the body's
        if any(name not in values for name in parsed.signed_headers):
            return MISMATCH
        signed = {name: ",".join(values[name]) for name in parsed.signed_headers}
        expected = self.signature(method, target, signed, body, amz_date)
        return None if hmac.compare_digest(expected, parsed.signature) else MISMATCH

    def signature(self, method: str, target: str, signed_headers: dict[str, str], body: bytes, amz_date: str) -> str:
        """The signature botocore makes for this request with the local key pair, at `amz_date`."""
        request = AWSRequest(method=method, url=f"http://{signed_headers['host']}{target}", data=body)
        for name, value in signed_headers.items():
            request.headers[name] = value
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.keys.access_key_id, self.keys.secret_access_key), SERVICE, self.region)
        canonical_request = signer.canonical_request(request)
        return str(signer.signature(signer.string_to_sign(request, canonical_request), request))

    def _scope_problem(self, parsed: Authorization, amz_date: str) -> Refusal | None:
        try:
            signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return ("IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.")
        now = self._clock()
        stamp = now.strftime(AMZ_DATE_FORMAT)
        if signed_at < now - MAX_CLOCK_SKEW:
            earliest = (now - MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)
            text = f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)"
            return ("InvalidSignatureException", text)
        if signed_at > now + MAX_CLOCK_SKEW:
            latest = (now + MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)
            text = f"Signature not yet current: {amz_date} is still later than {latest} ({stamp} + 5 min.)"
            return ("InvalidSignatureException", text)
        if parsed.scope_date != amz_date[:8]:
            text = (
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{parsed.scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
            return ("InvalidSignatureException", text)
        if parsed.region != self.region:
            return (
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region, not '{parsed.region}'.",
            )
        if parsed.service != SERVICE or parsed.terminator != "aws4_request":
            return ("InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'.")
        return None


def parse_authorization(header: str) -> Authorization | Refusal:
    """The header's parts, or API Gateway's refusal of an incomplete one."""
    fields: dict[str, str] = {}
    for part in header[len(ALGORITHM) :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        text = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        return ("IncompleteSignatureException", f"{text} Authorization={header}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5:
        return ("IncompleteSignatureException", f"Credential is malformed: {fields['Credential']}")
    key_id, scope_date, region, service, terminator = scope
    signed = fields["SignedHeaders"].lower().split(";")
    return Authorization(key_id, scope_date, region, service, terminator, signed, fields["Signature"])


def signed_headers(keys: KeyPair, region: str, method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """The headers that sign a request with `keys`, as botocore's signer adds them (for local clients and probes)."""
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(keys.access_key_id, keys.secret_access_key), SERVICE, region).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}
