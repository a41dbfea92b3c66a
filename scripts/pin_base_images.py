"""Pin each Dockerfile's base image to the current digest of its tag (`make pin-base-images`, which needs the
registries): ``FROM name:tag@sha256:...`` keeps the tag for the reader, and Docker pulls by the digest alone.

    python -m scripts.pin_base_images inference_image/Dockerfile ui_image/Dockerfile [--check]

The digest is that of the tag's manifest list (the multi-platform index), read with the registry's HTTP API
(an anonymous pull token, then a HEAD of the manifest): one digest serves both x86_64 and arm64 builds. No
Docker is needed. ``--check`` only reports a FROM that is not pinned, or pinned to an older digest."""

from __future__ import annotations

import argparse
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

# FROM [--platform=...] registry/name:tag[@sha256:digest] [AS stage]
_FROM = re.compile(
    r"^(?P<head>FROM\s+(?:--platform=\S+\s+)?)(?P<name>[^\s:@]+(?:/[^\s:@]+)*):(?P<tag>[^\s@]+)"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?(?P<tail>.*)$",
    re.MULTILINE,
)
_INDEX_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


@dataclass(frozen=True)
class Registry:
    host: str  # the registry's API host
    token_url: str  # where an anonymous pull token is handed out, with {repository}
    prefix: str = ""  # Docker Hub's official images live under library/


DOCKER_HUB = Registry(
    "registry-1.docker.io",
    "https://auth.docker.io/token?service=registry.docker.io&scope=repository:{repository}:pull",
    "library/",
)
PUBLIC_ECR = Registry("public.ecr.aws", "https://public.ecr.aws/token/?scope=repository:{repository}:pull")


@dataclass(frozen=True)
class BaseImage:
    name: str  # as written: public.ecr.aws/lambda/python, or python
    tag: str
    digest: str | None

    def where(self) -> tuple[Registry, str]:
        """The registry and the repository path in it."""
        first, _, rest = self.name.partition("/")
        if first == PUBLIC_ECR.host:
            return PUBLIC_ECR, rest
        if "." in first or ":" in first:
            raise ValueError(f"{self.name}: only Docker Hub and public.ecr.aws are known here")
        return DOCKER_HUB, self.name if "/" in self.name else DOCKER_HUB.prefix + self.name


def base_images(dockerfile: str) -> list[BaseImage]:
    return [BaseImage(found["name"], found["tag"], found["digest"]) for found in _FROM.finditer(dockerfile)]


def current_digest(image: BaseImage) -> str:
    """The digest the registry serves for the image's tag now."""
    registry, repository = image.where()
    with urllib.request.urlopen(
        registry.token_url.format(repository=urllib.parse.quote(repository)), timeout=30
    ) as got:
        token = json.load(got)["token"]
    request = urllib.request.Request(
        f"https://{registry.host}/v2/{repository}/manifests/{image.tag}",
        method="HEAD",
        headers={"Authorization": f"Bearer {token}", "Accept": _INDEX_TYPES},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        digest = str(answer.headers["Docker-Content-Digest"])
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ValueError(f"{image.name}:{image.tag}: the registry answered no digest ({digest!r})")
    return digest


def pinned(dockerfile: str, resolve: Callable[[BaseImage], str]) -> str:
    """The Dockerfile with every FROM pinned to the digest ``resolve`` gives for its tag."""

    def pin(found: re.Match[str]) -> str:
        digest = resolve(BaseImage(found["name"], found["tag"], found["digest"]))
        return f"{found['head']}{found['name']}:{found['tag']}@{digest}{found['tail']}"

    return _FROM.sub(pin, dockerfile)


def _looked_up(digests: dict[tuple[str, str], str], image: BaseImage) -> str:
    return digests[(image.name, image.tag)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dockerfiles", type=Path, nargs="+")
    parser.add_argument("--check", action="store_true", help="report stale or missing pins; change nothing")
    args = parser.parse_args(argv)
    stale = 0
    for path in args.dockerfiles:
        text = path.read_text(encoding="utf-8")
        digests = {(image.name, image.tag): current_digest(image) for image in base_images(text)}
        for image in base_images(text):
            now = digests[(image.name, image.tag)]
            if image.digest != now:
                stale += 1
                print(f"{path}: {image.name}:{image.tag} is {image.digest or 'not pinned'}; the tag is now {now}")
        if not args.check:
            path.write_text(pinned(text, partial(_looked_up, digests)), encoding="utf-8")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
