"""The cloud step's pure parts: certificate coverage, filling the plan's IAM documents, waits, kubeconfig."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kumo.cloud.aws.certificate import covers
from kumo.cloud.aws.context import Ctx, Reporter
from kumo.cloud.aws.iam import resolve
from kumo.cloud.aws.kubeconfig import write_context
from kumo.cloud.aws.waits import wait_for
from kumo.errors import ProviderError
from kumo.plan import aws_resources
from kumo.spec import load_spec

ROOT = Path(__file__).resolve().parents[3]
ONLINE_APP = ROOT / "examples" / "online-app" / "kumo.yaml"


class Lines(Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append(text)


def _ctx() -> Ctx:
    return Ctx(spec=load_spec(ONLINE_APP), path=ONLINE_APP, session=None, region="ap-northeast-1")


def test_certificate_coverage_is_exact_or_one_wildcard_label() -> None:
    assert covers("nginx.example.com", "nginx.example.com")
    assert covers("*.example.com", "nginx.example.com")
    assert covers("NGINX.example.com.", "nginx.example.com")
    assert not covers("*.example.com", "a.nginx.example.com")
    assert not covers("example.com", "nginx.example.com")
    assert not covers("*.other.com", "nginx.example.com")


def test_the_plans_documents_are_filled_with_the_live_issuer_and_zone() -> None:
    ctx = _ctx()
    ctx.live.account_id = "123456789012"
    resources = {r.name: r for r in aws_resources(ctx.spec, "123456789012")}
    trust = resources["online-app-kumo-dns"].properties["assumeRolePolicy"]
    policy = resources["online-app-kumo-dns-route53"].properties["policyDocument"]
    assert resolve(ctx, trust) is None  # the issuer is known only once the cluster exists
    assert resolve(ctx, policy) is None
    ctx.live.oidc_issuer = "https://oidc.eks.ap-northeast-1.amazonaws.com/id/ABC"
    ctx.live.zone_id = "Z123"
    host = "oidc.eks.ap-northeast-1.amazonaws.com/id/ABC"
    filled = resolve(ctx, trust)
    statement = filled["Statement"][0]
    assert statement["Principal"]["Federated"] == f"arn:aws:iam::123456789012:oidc-provider/{host}"
    assert statement["Condition"]["StringEquals"] == {
        f"{host}:aud": "sts.amazonaws.com",
        f"{host}:sub": "system:serviceaccount:kumo-system:kumo-dns",
    }
    assert resolve(ctx, policy)["Statement"][0]["Resource"] == ["arn:aws:route53:::hostedzone/Z123"]
    eks_trust = resources["online-app-kumo-cluster"].properties["assumeRolePolicy"]
    assert resolve(ctx, eks_trust) == eks_trust


def test_waits_report_progress_and_end_in_a_timeout_or_a_failed_state() -> None:
    ctx = _ctx()
    lines = Lines()
    ctx.reporter = lines
    ctx.sleep = lambda _: None
    states = iter(["CREATING", "CREATING", "ACTIVE"])
    assert (
        wait_for(ctx, "EKS cluster x", lambda: next(states), {"ACTIVE"}, {"FAILED"}, "10-15 min", 60)
        == "ACTIVE"
    )
    assert lines.lines[0].startswith("    EKS cluster x: CREATING, 0s elapsed (usually 10-15 min)")
    with pytest.raises(ProviderError, match="still CREATING") as timed_out:
        wait_for(ctx, "EKS cluster x", lambda: "CREATING", {"ACTIVE"}, {"FAILED"}, "10-15 min", -1)
    assert "again" in (timed_out.value.hint or "")
    with pytest.raises(ProviderError, match="is FAILED"):
        wait_for(ctx, "EKS cluster x", lambda: "FAILED", {"ACTIVE"}, {"FAILED"}, "10-15 min", 60)


def test_the_kubeconfig_context_is_merged_and_made_current(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "other", "cluster": {"server": "https://other"}}],
                "users": [{"name": "other", "user": {"token": "t"}}],
                "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
                "current-context": "other",
            }
        )
    )
    write_context(path, "arn:c", "online-app", "ap-northeast-1", "https://eks.example", "Q0E=")
    write_context(path, "arn:c", "online-app", "ap-northeast-1", "http://127.0.0.1:1234", "Q0E=")
    config = yaml.safe_load(path.read_text())
    assert config["current-context"] == "arn:c"
    assert [c["name"] for c in config["contexts"]] == ["other", "arn:c"]
    clusters = {c["name"]: c["cluster"] for c in config["clusters"]}
    assert clusters == {"other": {"server": "https://other"}, "arn:c": {"server": "http://127.0.0.1:1234"}}
    exec_user = next(u["user"]["exec"] for u in config["users"] if u["name"] == "arn:c")
    assert exec_user["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_user["args"][-6:] == [
        "cloud",
        "token",
        "--cluster",
        "online-app",
        "--region",
        "ap-northeast-1",
    ]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    write_context(path, "arn:c", "online-app", "ap-northeast-1", "https://eks.example", "Q0E=")
    clusters = {c["name"]: c["cluster"] for c in yaml.safe_load(path.read_text())["clusters"]}
    assert clusters["arn:c"] == {"server": "https://eks.example", "certificate-authority-data": "Q0E="}
