"""The sandbox supervisor against its real children: emulator, moto server, the Route 53 DNS server
and the DNS controller, started as processes, found again by PID file, stopped by PID.

The tests share one sandbox (module scope) and run in file order: they walk it through its life,
the last one stopping it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import dns.message
import dns.query
import dns.rcode
import pytest

from kumo.sandbox import supervisor
from kumo.sandbox.processes import PidFile, start_ticks
from kumo.sandbox.simulate import lb_addresses
from kumo.spec import load_spec

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
GENERIC_SPEC = """\
app: shop
target: {cloud: generic}
dns: {zone: example.com, provider: route53, ownerId: shop}
services:
  - name: web
    image: nginx:1.27
    port: 80
    endpoint: {hostname: shop.example.com, expose: loadbalancer, tls: "off"}
"""
ELB = "a0123456789abcdef0123456789abcd-1234567890.ap-northeast-1.elb.amazonaws.com"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[supervisor.Sandbox]:
    directory = tmp_path_factory.mktemp("sandbox")
    sb = supervisor.up(directory)
    try:
        yield sb
    finally:
        supervisor.down(directory)


def route53(sb: supervisor.Sandbox) -> Any:
    return boto3.client(
        "route53",
        endpoint_url=sb.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def zone_id(sandbox: supervisor.Sandbox) -> str:
    client = route53(sandbox)
    zone = client.create_hosted_zone(Name="example.com", CallerReference="supervisor-test")
    return str(zone["HostedZone"]["Id"])


def ask(sb: supervisor.Sandbox, name: str, rdtype: str = "A") -> dns.message.Message:
    return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", 2, sb.ports["dns"])


def addresses(msg: dns.message.Message) -> set[str]:
    return {rd.to_text() for rrset in msg.answer for rd in rrset if rrset.rdtype in (1, 28, 16)}


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_up_writes_env_and_kubeconfig_and_every_service_answers(sandbox: supervisor.Sandbox) -> None:
    env = supervisor.read_env_file(sandbox.env_file)
    assert env["AWS_ENDPOINT_URL"] == sandbox.aws_url
    assert env["KUBECONFIG"] == str(sandbox.kubeconfig)
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    with urllib.request.urlopen(f"{sandbox.kube_url}/version", timeout=5) as resp:
        assert json.load(resp)["major"]
    assert oct(sandbox.token_file.stat().st_mode & 0o777) == "0o600"
    assert all(s.running and s.pid for s in sandbox.services.values())


def test_second_up_reuses_the_running_processes(sandbox: supervisor.Sandbox) -> None:
    again = supervisor.up(sandbox.directory)
    assert {n: s.pid for n, s in again.services.items()} == {n: s.pid for n, s in sandbox.services.items()}
    assert not any(s.started for s in again.services.values())


def test_dns_server_answers_from_moto_with_alias_as_addresses(
    sandbox: supervisor.Sandbox, zone_id: str
) -> None:
    route53(sandbox).change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": "www.example.com",
                        "Type": rtype,
                        "AliasTarget": {
                            "HostedZoneId": "Z14GRHDCWA56QT",
                            "DNSName": ELB,
                            "EvaluateTargetHealth": True,
                        },
                    },
                }
                for rtype in ("A", "AAAA")
            ]
            + [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": "a-www.example.com",
                        "Type": "TXT",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": '"heritage=external-dns,external-dns/owner=t"'}],
                    },
                }
            ]
        },
    )
    v4, v6 = lb_addresses(ELB)
    assert wait_for(lambda: addresses(ask(sandbox, "www.example.com")) == set(v4))
    answer = ask(sandbox, "www.example.com", "AAAA")
    assert addresses(answer) == set(v6)
    assert answer.flags & dns.flags.AA
    assert addresses(ask(sandbox, "a-www.example.com", "TXT")) == {
        '"heritage=external-dns,external-dns/owner=t"'
    }
    # the load balancer's own name gives the same addresses
    assert addresses(ask(sandbox, ELB)) == set(v4)
    missing = ask(sandbox, "nothing.example.com")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.authority and missing.authority[0].rdtype == dns.rdatatype.SOA
    assert ask(sandbox, "www.example.org").rcode() == dns.rcode.REFUSED


def kube(sb: supervisor.Sandbox, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{sb.kube_url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.load(resp)


def test_prepared_for_a_spec_the_dns_controller_publishes_through_route53_in_moto(
    sandbox: supervisor.Sandbox, zone_id: str
) -> None:
    spec = load_spec(ROOT / "examples/online-app/kumo.yaml")
    supervisor.prepare(sandbox, spec)
    service = supervisor.ensure_dns_controller(sandbox, spec)
    assert service is not None and service.running
    # the same flags again: the running controller is kept
    assert supervisor.ensure_dns_controller(sandbox, spec).pid == service.pid  # type: ignore[union-attr]
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "api",
            "namespace": "default",
            "annotations": {"external-dns.alpha.kubernetes.io/hostname": "api.example.com"},
        },
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}], "selector": {"app": "api"}},
    }
    kube(sandbox, "/api/v1/namespaces/default/services", body)
    assert wait_for(lambda: addresses(ask(sandbox, "api.example.com")))
    # the simulated cluster is in the spec's region, so the ELB and its alias zone id are Tokyo's
    svc = kube(sandbox, "/api/v1/namespaces/default/services/api")
    elb = svc["status"]["loadBalancer"]["ingress"][0]["hostname"]
    assert elb.endswith(".ap-northeast-1.elb.amazonaws.com")
    assert addresses(ask(sandbox, "api.example.com")) == set(lb_addresses(elb)[0])
    records = route53(sandbox).list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    alias = [r for r in records if r["Name"] == "api.example.com." and r["Type"] == "A"]
    assert alias[0]["AliasTarget"]["HostedZoneId"] == "Z14GRHDCWA56QT"
    txt = [r for r in records if r["Name"] == "a-api.example.com." and r["Type"] == "TXT"]
    assert txt and "external-dns/owner=my-hostedzone-identifier" in txt[0]["ResourceRecords"][0]["Value"]
    lease = kube(sandbox, "/apis/coordination.k8s.io/v1/namespaces/kumo-system/leases/kumo-dns")
    assert lease["spec"]["holderIdentity"].endswith(f"/{service.pid}")


def kumo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kumo.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_up_status_down_with_sandbox_on_a_generic_target(sandbox: supervisor.Sandbox, tmp_path: Path) -> None:
    spec = tmp_path / "kumo.yaml"
    spec.write_text(GENERIC_SPEC)
    env = {**os.environ, "KUMO_SANDBOX_DIR": str(sandbox.directory)}
    before = PidFile(sandbox.directory, "dns-controller").live()
    up = kumo("up", str(spec), "--sandbox", env=env)
    assert up.returncode == 0, up.stderr
    assert f"dig @127.0.0.1 -p {sandbox.ports['dns']} shop.example.com" in up.stdout
    # another spec's flags: the DNS controller was restarted with them
    after = PidFile(sandbox.directory, "dns-controller").live()
    assert before is not None and after is not None and after.pid != before.pid
    assert "--txt-owner-id=shop" in after.argv
    # a generic cluster's load balancer has an IP, published as an A record
    found = addresses(ask(sandbox, "shop.example.com"))
    svc = kube(sandbox, "/api/v1/namespaces/shop/services/web")
    assert found == {svc["status"]["loadBalancer"]["ingress"][0]["ip"]}
    # the add-on's Deployment does not pretend: 0 replicas, and status names the real process
    deployment = kube(sandbox, "/apis/apps/v1/namespaces/kumo-system/deployments/kumo-dns")
    assert deployment["spec"]["replicas"] == 0
    status = kumo("status", str(spec), "--sandbox", "--output", "json", env=env)
    controller = json.loads(status.stdout)["dnsController"]
    assert controller["leader"].endswith(f"/{after.pid}") and str(after.pid) in controller["runsAs"]
    down = kumo("down", str(spec), "--sandbox", env=env)
    assert down.returncode == 0, down.stderr
    assert wait_for(lambda: ask(sandbox, "shop.example.com").rcode() == dns.rcode.NXDOMAIN)


def test_the_emulator_takes_eks_tokens_replayed_to_the_sandboxs_sts_and_nothing_else(
    sandbox: supervisor.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from kumo.cloud.aws.token import eks_token

    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    token = eks_token("online-app", "ap-northeast-1")

    def status(bearer: str) -> int:
        request = urllib.request.Request(
            f"{sandbox.kube_url}/api/v1/nodes", headers={"Authorization": f"Bearer {bearer}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status(token) == 200
    # the same presigned URL aimed at another endpoint is never replayed
    url = base64.urlsafe_b64decode(token[11:] + "=" * (-len(token[11:]) % 4)).decode()
    elsewhere = url.replace(sandbox.aws_url, "http://127.0.0.1:9")
    forged = "k8s-aws-v1." + base64.urlsafe_b64encode(elsewhere.encode()).decode().rstrip("=")
    assert status(forged) == 401
    # an STS URL not signed for a cluster is not an EKS token
    unsigned = url.replace("host%3Bx-k8s-aws-id", "host")
    assert status("k8s-aws-v1." + base64.urlsafe_b64encode(unsigned.encode()).decode().rstrip("=")) == 401
    assert status("k8s-aws-v1.not-base64!") == 401


def test_a_dead_service_is_restarted_and_down_leaves_nothing(
    sandbox: supervisor.Sandbox,
) -> None:
    record = PidFile(sandbox.directory, "dns").live()
    assert record is not None
    os.kill(record.pid, 9)
    assert wait_for(lambda: start_ticks(record.pid) is None, 10)
    again = supervisor.up(sandbox.directory)
    # restarted (on its old port when that is still free: best effort, another socket may hold it now)
    assert again.services["dns"].started and again.services["dns"].pid != record.pid
    assert ask(again, "www.example.com").rcode() == dns.rcode.NOERROR
    assert again.services["kubeapi"].pid == sandbox.services["kubeapi"].pid
    pids = [s.pid for s in supervisor.load(sandbox.directory).services.values()]
    supervisor.down(sandbox.directory)
    assert all(start_ticks(pid) is None for pid in pids if pid)  # type: ignore[arg-type]
    assert not list(sandbox.directory.glob("*.pid"))
    assert not supervisor.load(sandbox.directory).services or not any(
        s.running for s in supervisor.load(sandbox.directory).services.values()
    )


def test_sandbox_commands_without_a_running_sandbox_say_how_to_start_one(tmp_path: Path) -> None:
    env = {**os.environ, "KUMO_SANDBOX_DIR": str(tmp_path / "none")}
    up = kumo("up", str(ROOT / "examples/online-app/kumo.yaml"), "--sandbox", env=env)
    assert up.returncode == 2
    assert "is not running" in up.stderr and "kumo sandbox up" in up.stderr
    assert "Traceback" not in up.stderr
    status = kumo("sandbox", "status", env=env)
    assert status.returncode == 1 and "no sandbox" in status.stdout
