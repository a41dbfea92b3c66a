"""The README states facts kept elsewhere only by linking or by agreeing with their one source."""

from __future__ import annotations

import re

from testing.local_stack import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DEPLOY = (REPO / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
DOLLARS = re.compile(r"\$\d[\d,.]*")


def cost_table() -> str:
    start = DEPLOY.index("## What runs while idle")
    return DEPLOY[start : DEPLOY.index("\n## ", start + 1)]


def test_every_cost_figure_in_the_readme_comes_from_the_deploy_guide() -> None:
    """Each dollar figure the README gives is one of docs/DEPLOY.md's cost section, which it links."""
    assert "docs/DEPLOY.md#what-runs-while-idle-and-roughly-what-it-costs" in README
    figures = set(DOLLARS.findall(cost_table()))
    assert set(DOLLARS.findall(README)) <= figures


def test_the_public_ipv4_charge_is_in_the_cost_table() -> None:
    """The cost table has a row for public IPv4 addresses, the ALB's and the UI tasks'."""
    row = next(line for line in cost_table().splitlines() if line.startswith("| Public IPv4"))
    assert "$3.65 per address-month" in row
    assert "ALB" in row and "UI task" in row


def test_the_deploy_steps_do_not_set_a_region_the_stack_file_sets() -> None:
    """The dev stack file sets aws:region, so the README's deploy block does not ask to set it again."""
    assert "aws:region:" in (REPO / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    deploy = README[README.index("## Deploy to AWS") :]
    block = re.search(r"```bash\n(.*?)```", deploy, re.DOTALL)
    assert block
    assert "config set aws:region" not in block.group(1)


def test_the_readme_tells_clients_both_error_shapes() -> None:
    """The README names the function's error shape and API Gateway's own {"message"} with its statuses."""
    assert '{"error": {"code": "...", "message": "..."}}' in README
    assert '`{"message": "..."}`' in README
    for status in ("413 `Request Entity Too Large`", "429 `Too Many Requests`", "503 `Service Unavailable`"):
        assert status in README
