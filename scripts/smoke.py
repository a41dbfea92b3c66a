"""`make smoke`: check a deployed stack (or the local one) end to end, as its users would call it.

    make smoke                                     # the current Pulumi stack's outputs (needs the Pulumi CLI)
    make smoke URL=https://abc123.execute-api.eu-west-1.amazonaws.com REGION=eu-west-1 [UI_URL=https://...]
    python -m scripts.smoke --url http://127.0.0.1:8080 --auth none --ui-url http://127.0.0.1:8501

Checks, in order, each printed as one line with its time: ``GET /health``; a message round trip (``POST
/messages``, then the message found by ``GET /messages``; its text says it comes from this smoke check); each
model's samples through ``POST /models/{name}/predict``; a job round trip when the stack has jobs (inline inputs,
polled until it ends, its result read); and that the UI answers (200, or a redirect to the sign-in page). Exits 1
if any check fails.

Auth: with IAM (``apiAuth: iam``, the default) every call is signed with SigV4 by botocore, with the caller's own
credentials from botocore's usual chain (environment, profile, SSO, an assumed role's session token included);
``--auth none`` sends unsigned calls (``apiAuth: none``), ``--auth jwt`` sends ``API_TOKEN`` as a bearer token
(``apiAuth: jwt``). Without ``--auth`` it signs when credentials are found, else sends unsigned calls.

Without ``--url`` it reads ``api_url``, ``api_auth`` and ``ui_url`` from ``pulumi stack output --json``; the region
comes from ``--region``, else the API's execute-api host name, else botocore's configured region."""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

SERVICE = "execute-api"
REQUEST_TIMEOUT_SECONDS = 35.0  # above API Gateway's 30 s integration timeout, so that its own 503 is what we see
MAX_BATCH = 256  # /predict's largest batch
JOB_INPUTS = 8  # a job of a few of the default model's samples: enough for a round trip, cheap on any stack
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_SIGN_IN_PATHS = ("/oauth2/authorize", "/login")  # Cognito's hosted UI, as the ALB's authenticate action sends it
_REDIRECTS = (301, 302, 303, 307, 308)


class CheckFailed(Exception):
    """A check's failure, with what a person needs to see (the status and the API's message)."""


class Skipped(Exception):
    """A check that does not apply to this stack (jobs off, no UI)."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise CheckFailed(f"{self.status} with a body that is not JSON: {self.body[:200]!r}") from None

    def error(self) -> str:
        """What the answer says went wrong: the function's error, API Gateway's message, or the start of the body."""
        try:
            body = json.loads(self.body)
        except ValueError:
            return f"{self.status} {self.body[:200]!r}"
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return f"{self.status} {body['error'].get('code')}: {body['error'].get('message')}"
        if isinstance(body, dict) and "message" in body:
            return f"{self.status} {body['message']}"
        return f"{self.status} {self.body[:200]!r}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer to look at (the UI's sign-in), not to follow


_OPENER = urllib.request.build_opener(_NoRedirects())


def http_call(method: str, url: str, body: bytes = b"", headers: Mapping[str, str] | None = None) -> Reply:
    """One HTTP request; any status is a Reply, only a failure to get an answer raises."""
    request = urllib.request.Request(url, data=body or None, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers.items()), error.read())
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CheckFailed(f"no answer from {urlsplit(url).netloc}: {reason}") from None


class Api:
    """The stack's HTTP API, called as a user would: signed with SigV4, with a bearer token, or plainly."""

    def __init__(self, base_url: str, auth: str, region: str | None, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.region = region
        self._token = token
        self._credentials: Any = None
        if auth == "iam":
            import botocore.session

            self._credentials = botocore.session.get_session().get_credentials()
            if self._credentials is None:
                raise CheckFailed("no AWS credentials found to sign with (botocore's chain: environment, profile, SSO)")
            if region is None:
                raise CheckFailed("no region to sign for: pass REGION=... (--region)")

    def call(self, method: str, path: str, payload: Any = None) -> Reply:
        url = self.base_url + path
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {"content-type": "application/json"} if payload is not None else {}
        if self.auth == "iam":
            headers |= self._signature(method, url, body, headers)
        elif self.auth == "jwt":
            headers["authorization"] = f"Bearer {self._token}"
        return http_call(method, url, body, headers)

    def _signature(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """botocore's SigV4 headers for execute-api; a session token, if the credentials have one, is signed too."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        # Frozen per call: refreshable credentials (SSO, an assumed role) are renewed when they near expiry.
        SigV4Auth(self._credentials.get_frozen_credentials(), SERVICE, self.region).add_auth(request)
        return {name: str(value) for name, value in request.headers.items() if name.lower() != "content-type"}


@dataclass
class Target:
    api_url: str
    auth: str
    region: str | None
    ui_url: str | None = None
    token: str | None = None
    job_timeout: float = 300.0
    dashboard_url: str | None = None  # the stack's CloudWatch dashboard, pointed to at the end


@dataclass
class Result:
    name: str
    outcome: str  # PASS, FAIL or SKIP
    seconds: float
    detail: str

    def line(self) -> str:
        return f"{self.outcome:<4}  {self.name:<24} {self.seconds:7.2f} s  {self.detail}"


@dataclass
class Smoke:
    """The checks, sharing what earlier ones learnt (the models and their samples)."""

    api: Api
    target: Target
    models: list[dict[str, Any]] = field(default_factory=list)
    default_model: str | None = None
    clock: Callable[[], float] = time.monotonic

    def checks(self) -> Iterator[tuple[str, Callable[[], str]]]:
        yield "health", self.health
        yield "message round trip", self.message_round_trip
        yield "models", self.list_models
        for model in self.models:  # read by list_models, which runs before this line is reached
            yield f"predict {model['name']}", functools.partial(self.predict_samples, model)
        yield "job round trip", self.job_round_trip
        yield "ui", self.ui

    def health(self) -> str:
        reply = self.api.call("GET", "/health")
        if reply.status != 200:
            raise CheckFailed(reply.error())
        body = reply.json()
        if not isinstance(body, dict) or body.get("status") != "ok":
            raise CheckFailed(f"status is {body.get('status') if isinstance(body, dict) else body!r}, not ok")
        return "status ok"

    def message_round_trip(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = f"smoke check (make smoke) from {socket.gethostname()} at {stamp}"
        created = self.api.call("POST", "/messages", {"text": text})
        if created.status != 201:
            raise CheckFailed(f"POST /messages: {created.error()}")
        message_id = created.json().get("id")
        listed = self.api.call("GET", "/messages?limit=100")
        if listed.status != 200:
            raise CheckFailed(f"GET /messages: {listed.error()}")
        items = listed.json().get("items", [])
        if not any(item.get("id") == message_id and item.get("text") == text for item in items):
            raise CheckFailed(f"message {message_id} was stored but is not among the newest {len(items)}")
        return f"message {message_id} stored and listed"

    def list_models(self) -> str:
        reply = self.api.call("GET", "/models")
        if reply.status != 200:
            raise CheckFailed(reply.error())
        body = reply.json()
        models = body.get("models") if isinstance(body, dict) else None
        if not isinstance(models, list) or not all(isinstance(m, dict) and "name" in m for m in models):
            raise CheckFailed(f"GET /models has no list of named models: {reply.body[:200]!r}")
        if not models:
            raise CheckFailed("GET /models lists no model: nothing is published")
        self.models = models
        default = body.get("default_model")
        self.default_model = default if isinstance(default, str) else str(models[0]["name"])
        return ", ".join(str(model["name"]) for model in models)

    def predict_samples(self, model: dict[str, Any]) -> str:
        samples = samples_of(model)
        if not samples:
            raise Skipped("the model's metadata has no samples")
        name = str(model["name"])
        labelled = 0
        matched = 0
        for start in range(0, len(samples), MAX_BATCH):
            batch = samples[start : start + MAX_BATCH]
            inputs = [sample["input"] for sample in batch]
            reply = self.api.call("POST", f"/models/{quote(name, safe='')}/predict", {"inputs": inputs})
            if reply.status != 200:
                raise CheckFailed(reply.error())
            outputs = reply.json().get("outputs")
            if not isinstance(outputs, list) or len(outputs) != len(batch):
                raise CheckFailed(f"{len(batch)} inputs, but outputs are {str(outputs)[:100]}")
            for sample, output in zip(batch, outputs, strict=True):
                if isinstance(output, dict) and "label" in output and sample.get("label") is not None:
                    labelled += 1
                    matched += str(output["label"]) == str(sample["label"])
        version = model.get("serving") or "?"
        labels = f", {matched}/{labelled} given their sample's label" if labelled else ""
        return f"{len(samples)} samples answered by version {version}{labels}"

    def job_round_trip(self) -> str:
        if not self.models:
            raise Skipped("needs the models, which GET /models did not give")
        model = next((m for m in self.models if m.get("name") == self.default_model), None)
        samples = samples_of(model) if model else []
        if not samples:
            model = next((m for m in self.models if samples_of(m)), None)
            samples = samples_of(model) if model else []
        if model is None or not samples:
            raise Skipped("no model with samples to run as a job")
        inputs = [sample["input"] for sample in samples[:JOB_INPUTS]]
        submitted = self.api.call("POST", "/jobs", {"model": model["name"], "inputs": inputs})
        if submitted.status == 404 and _error_code(submitted) == "jobs_disabled":
            raise Skipped("jobs are off on this stack")
        if submitted.status != 202:
            raise CheckFailed(f"POST /jobs: {submitted.error()}")
        job_id = str(submitted.json().get("job_id"))
        job = self._wait_for(job_id)
        if job.get("status") != "succeeded":
            error = job.get("error") or {}
            raise CheckFailed(f"job {job_id} {job.get('status')}: {error.get('code')}: {error.get('message')}")
        result = job.get("result")
        if result is None and job.get("result_url"):
            download = http_call("GET", str(job["result_url"]))  # presigned: S3 checks its own signature
            if download.status != 200:
                raise CheckFailed(f"job {job_id}: its result_url answered {download.error()}")
            result = download.json()
        outputs = result.get("outputs") if isinstance(result, dict) else None
        if not isinstance(outputs, list) or len(outputs) != len(inputs):
            raise CheckFailed(f"job {job_id}: {len(inputs)} inputs, but its result is {str(result)[:100]}")
        return f"job {job_id} on {model['name']}: {len(outputs)} outputs"

    def _wait_for(self, job_id: str) -> dict[str, Any]:
        deadline = self.clock() + self.target.job_timeout
        while True:
            reply = self.api.call("GET", f"/jobs/{quote(job_id, safe='')}")
            if reply.status != 200:
                raise CheckFailed(f"GET /jobs/{job_id}: {reply.error()}")
            job = reply.json()
            if job.get("status") in ("succeeded", "failed"):
                return dict(job)
            if self.clock() > deadline:
                progress = job.get("progress")
                raise CheckFailed(
                    f"job {job_id} still {job.get('status')} ({progress}) after {self.target.job_timeout:g} s"
                )
            time.sleep(1.0)

    def ui(self) -> str:
        if not self.target.ui_url:
            raise Skipped("no UI URL (the stack has no UI, or pass UI_URL=...)")
        return check_ui(self.target.ui_url)


def samples_of(model: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A model's samples that carry an input, read defensively: whatever else the listing holds is ignored."""
    samples = model.get("samples")
    if not isinstance(samples, list):
        return []
    return [sample for sample in samples if isinstance(sample, dict) and "input" in sample]


def _error_code(reply: Reply) -> str | None:
    try:
        return str(json.loads(reply.body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def check_ui(url: str, hops: int = 3) -> str:
    """The UI answers 200, or redirects to the sign-in page (the ALB's Cognito login); a redirect within the
    same host (HTTP to HTTPS) is followed first."""
    for _ in range(hops):
        reply = http_call("GET", url)
        if reply.status == 200:
            return "200"
        if reply.status not in _REDIRECTS or "Location" not in reply.headers:
            raise CheckFailed(f"{url} answered {reply.status}")
        location = urljoin(url, reply.headers["Location"])
        where = urlsplit(location)
        if any(where.path.endswith(path) for path in _SIGN_IN_PATHS):
            return f"{reply.status} to the sign-in page on {where.netloc}"
        if where.hostname != urlsplit(url).hostname:
            raise CheckFailed(f"{url} redirects to {location}, not to a sign-in page")
        url = location
    raise CheckFailed(f"more than {hops} redirects from {url}")


def run(smoke: Smoke, out: Callable[[str], None] = print) -> list[Result]:
    """Run every check, printing each result as it comes; a failed check does not stop the others."""
    results: list[Result] = []
    for name, check in smoke.checks():
        started = smoke.clock()
        try:
            outcome, detail = "PASS", check()
        except Skipped as skipped:
            outcome, detail = "SKIP", str(skipped)
        except CheckFailed as failed:
            outcome, detail = "FAIL", str(failed)
        result = Result(name, outcome, smoke.clock() - started, detail)
        results.append(result)
        out(result.line())
    return results


def region_of(api_url: str) -> str | None:
    """The region in an execute-api host name (https://abc123.execute-api.eu-west-1.amazonaws.com)."""
    found = _EXECUTE_API_HOST.match(urlsplit(api_url).hostname or "")
    return found.group(1) if found else None


def stack_outputs(stack: str | None) -> dict[str, Any]:
    """``pulumi stack output --json`` of the current (or named) stack."""
    command = ["pulumi", "stack", "output", "--json", *(["--stack", stack] if stack else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed: {done.stderr.strip()}")
    outputs = json.loads(done.stdout)
    return outputs if isinstance(outputs, dict) else {}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the API's URL (default: the Pulumi stack's api_url)")
    parser.add_argument("--region", help="the region to sign for (default: from the URL, else botocore's)")
    parser.add_argument("--ui-url", help="the UI's URL (default: the Pulumi stack's ui_url, if any)")
    parser.add_argument(
        "--auth", choices=("iam", "none", "jwt"), help="how to call the API (default: the stack's api_auth output)"
    )
    parser.add_argument("--stack", help="the Pulumi stack to read outputs from (default: the current one)")
    parser.add_argument("--job-timeout", type=float, default=300.0, help="seconds to wait for the job (default 300)")
    return parser.parse_args(argv)


def target_from(args: argparse.Namespace, env: Mapping[str, str]) -> Target:
    outputs: dict[str, Any] = {}
    if not args.url:
        if shutil.which("pulumi") is None:
            raise SystemExit("Give the API's URL (make smoke URL=... REGION=...), or install the Pulumi CLI")
        outputs = stack_outputs(args.stack)
        if "api_url" not in outputs:
            raise SystemExit("The stack has no api_url output: has `pulumi up` run?")
    api_url = str(args.url or outputs["api_url"])
    auth = args.auth or outputs.get("api_auth") or ("iam" if _have_credentials() else "none")
    region = args.region or region_of(api_url) or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region is None and auth == "iam":
        import botocore.session

        region = botocore.session.get_session().get_config_variable("region")
    token = env.get("API_TOKEN")
    if auth == "jwt" and not token:
        raise SystemExit("apiAuth jwt: put a token from the stack's issuer in API_TOKEN")
    ui_url = args.ui_url or outputs.get("ui_url")
    dashboard = outputs.get("dashboard_url")
    return Target(
        api_url,
        str(auth),
        region,
        str(ui_url) if ui_url else None,
        token,
        args.job_timeout,
        dashboard and str(dashboard),
    )


def _have_credentials() -> bool:
    import botocore.session

    return botocore.session.get_session().get_credentials() is not None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    target = target_from(args, os.environ)
    how = {"iam": f"signed (SigV4, {target.region})", "jwt": "with API_TOKEN", "none": "unsigned"}[target.auth]
    print(f"Smoke check of {target.api_url}, {how}", flush=True)
    try:
        api = Api(target.api_url, target.auth, target.region, target.token)
    except CheckFailed as problem:
        print(f"FAIL  {problem}")
        return 1
    results = run(Smoke(api, target), lambda line: print(line, flush=True))
    failed = [result.name for result in results if result.outcome == "FAIL"]
    passed = sum(result.outcome == "PASS" for result in results)
    print(f"{'FAILED: ' + ', '.join(failed) if failed else 'OK'} ({passed} passed, {len(failed)} failed)")
    if target.dashboard_url:
        print(f"Dashboard: {target.dashboard_url}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
