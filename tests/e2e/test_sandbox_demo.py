"""The README's main command, end to end: ``bash scripts/demo.sh`` on a clean checkout's copy.

The checkout is a ``git clone`` of this repository's HEAD into a temporary directory; its ``.venv``
is a symlink to this checkout's, and ``scripts/setup.sh`` finds everything installed (the clone's
``pyproject.toml`` is dated before the venv's install stamp), so nothing is reinstalled. The clone's
own sources run (``PYTHONPATH``). Then the test checks what the demo promises, through real peers:
``dig`` against the sandbox's DNS server, boto3 against its moto server, HTTP against its console,
and process ids for what ``kumo sandbox down`` must leave behind. The tests run in file order,
as a user would: look, then ``kumo down``, then ``kumo sandbox down`` and up again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from kumo.sandbox.processes import start_ticks
from kumo.sandbox.simulate import lb_addresses

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SPEC = "examples/online-app/kumo.yaml"
HOST = "nginx.example.com"
OWNER = "my-hostedzone-identifier"
REGION = "ap-northeast-1"


@dataclass
class Demo:
    checkout: Path
    env: dict[str, str]
    output: str

    @property
    def directory(self) -> Path:
        return self.checkout / ".kumo" / "sandbox"

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.directory / "state.json").read_text()))

    def port(self, name: str) -> int:
        return int(self.state()["ports"][name])

    def kumo(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.checkout / ".venv/bin/kumo"), *args],
            cwd=self.checkout,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def aws(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{self.port('moto')}",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def dig(self, name: str, rdtype: str = "A") -> list[str]:
        out = subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(self.port("dns")), name, rdtype, "+short", "+norec"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.split()

    def pids(self) -> dict[str, tuple[int, int]]:
        found = {}
        for pidfile in self.directory.glob("*.pid"):
            data = json.loads(pidfile.read_text())
            found[pidfile.stem] = (int(data["pid"]), int(data["ticks"]))
        return found


def _checkout(tmp: Path) -> Path:
    checkout = tmp / "kumo"
    inside_git = shutil.which("git") is not None and (
        subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode == 0
    )
    if inside_git:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True, timeout=120)
    else:  # a source tree without git (an unpacked archive): the same files, minus what runs make
        shutil.copytree(
            ROOT,
            checkout,
            ignore=shutil.ignore_patterns(
                ".venv", ".kumo", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"
            ),
        )
    venv = (ROOT / ".venv").resolve()
    stamp = venv / ".kumo-installed"
    if not stamp.exists():
        pytest.skip("the venv has no install stamp (run scripts/setup.sh first)")
    (checkout / ".venv").symlink_to(venv)
    # setup.sh reinstalls when pyproject.toml is newer than the stamp; the copy must not (it would
    # point the shared venv's editable install at this temporary directory)
    before = stamp.stat().st_mtime - 60
    os.utime(checkout / "pyproject.toml", (before, before))
    return checkout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if shutil.which("dig") is None:
        pytest.skip("dig is not installed (scripts/setup.sh installs bind9-dnsutils)")
    checkout = _checkout(tmp_path_factory.mktemp("demo"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUMO_")) and k != "KUBECONFIG"}
    env.update({"PYTHONPATH": str(checkout / "src"), "COLUMNS": "200", "HOME": str(checkout)})
    env["PATH"] = f"{checkout / '.venv/bin'}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
    )
    state = Demo(checkout, env, result.stdout)
    try:
        assert result.returncode == 0, f"demo.sh failed:\n{result.stdout}\n{result.stderr}"
        yield state
    finally:
        state.kumo("sandbox", "down", "--purge")


def test_demo_prints_the_url_the_console_with_its_token_and_a_dig_line_that_answers(demo: Demo) -> None:
    assert f"https://{HOST}" in demo.output
    token = (demo.directory / "console.token").read_text().strip()
    assert f"console: http://127.0.0.1:{demo.port('console')}/?token={token}" in demo.output
    line = re.search(r"dig @127\.0\.0\.1 -p (\d+) (\S+)", demo.output)
    assert line is not None and line.group(2) == HOST
    assert int(line.group(1)) == demo.port("dns")
    assert demo.dig(HOST)


def test_the_name_resolves_to_the_simulated_load_balancer_and_moto_holds_the_ownership_txt(
    demo: Demo,
) -> None:
    svc = json.loads(demo.kumo("status", SPEC, "--sandbox", "--output", "json").stdout)
    address = next(e["address"] for e in svc["endpoints"] if e["name"] == "nginx")
    assert address.endswith(f".{REGION}.elb.amazonaws.com")
    v4, v6 = lb_addresses(address)
    assert sorted(demo.dig(HOST)) == sorted(v4)
    assert sorted(demo.dig(HOST, "AAAA")) == sorted(v6)
    route53 = demo.aws("route53")
    zone = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"][0]["Id"]
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    alias = next(r for r in records if r["Name"] == f"{HOST}." and r["Type"] == "A")
    assert alias["AliasTarget"]["DNSName"].rstrip(".").lower() == address.lower()
    assert alias["AliasTarget"]["HostedZoneId"] == "Z14GRHDCWA56QT"  # classic ELB, ap-northeast-1
    txt = next(r for r in records if r["Name"] == f"a-{HOST}." and r["Type"] == "TXT")
    assert txt["ResourceRecords"][0]["Value"] == (
        f'"heritage=external-dns,external-dns/owner={OWNER},external-dns/resource=service/online-app/nginx"'
    )
    # the controller that wrote them is the sandbox's process, holding the add-on's Lease
    controller = svc["dnsController"]
    pid = demo.pids()["dns-controller"][0]
    assert controller["leader"].endswith(f"/{pid}")
    assert controller["replicas"] == 0


def test_the_cloud_step_made_the_cluster_node_group_oidc_provider_and_irsa_role_tagged(demo: Demo) -> None:
    eks = demo.aws("eks")
    cluster = eks.describe_cluster(name="online-app")["cluster"]
    assert cluster["tags"].get("kumo.dev/managed-by") and cluster["tags"].get("kumo.dev/app") == "online-app"
    groups = eks.list_nodegroups(clusterName="online-app")["nodegroups"]
    assert groups
    group = eks.describe_nodegroup(clusterName="online-app", nodegroupName=groups[0])["nodegroup"]
    assert group["tags"].get("kumo.dev/app") == "online-app"
    iam = demo.aws("iam")
    issuer = cluster["identity"]["oidc"]["issuer"].removeprefix("https://")
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    arn = next(p["Arn"] for p in providers if p["Arn"].endswith(issuer))
    provider_tags = {
        t["Key"]: t["Value"]
        for t in iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    }
    assert provider_tags.get("kumo.dev/app") == "online-app"
    roles = [r for r in iam.list_roles()["Roles"] if issuer in json.dumps(r["AssumeRolePolicyDocument"])]
    assert roles, "no role trusts the cluster's OIDC provider"
    role = roles[0]
    trust = json.dumps(role["AssumeRolePolicyDocument"])
    assert f"{issuer}:sub" in trust and f"{issuer}:aud" in trust
    role_tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
    assert role_tags.get("kumo.dev/app") == "online-app"


def test_the_console_answers_with_its_token_and_shows_the_app_2_of_2(demo: Demo) -> None:
    base = f"http://127.0.0.1:{demo.port('console')}"
    token = (demo.directory / "console.token").read_text().strip()
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"{base}/api/apps", timeout=10)
    assert denied.value.code == 401
    request = urllib.request.Request(f"{base}/api/apps", headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(request, timeout=10) as resp:
            apps = json.load(resp)["apps"]
        app = next((a for a in apps if a["app"] == "online-app"), None)
        if (app and (app["desired"], app["running"]) == (2, 2)) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert app is not None and (app["desired"], app["running"]) == (2, 2)


def test_kumo_down_removes_the_records_from_moto_and_from_dns(demo: Demo) -> None:
    result = demo.kumo("down", SPEC, "--sandbox")
    assert result.returncode == 0, result.stderr
    route53 = demo.aws("route53")
    zone = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"][0]["Id"]
    deadline = time.monotonic() + 30
    while True:
        names = {
            r["Name"] for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        }
        gone = not ({f"{HOST}.", f"a-{HOST}.", f"aaaa-{HOST}."} & names)
        if gone or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert gone, names
    assert demo.dig(HOST) == []


def test_sandbox_down_leaves_no_process_and_a_second_up_works(demo: Demo) -> None:
    pids = demo.pids()
    assert {"kubeapi", "moto", "dns", "dns-controller", "console"} <= set(pids)
    result = demo.kumo("sandbox", "down")
    assert result.returncode == 0, result.stderr
    left = [name for name, (pid, ticks) in pids.items() if start_ticks(pid) == ticks]
    assert left == [], f"still running after sandbox down: {left}\n{result.stdout}\n{result.stderr}"
    again = demo.kumo("sandbox", "up", "--output", "json")
    assert again.returncode == 0, again.stderr
    info = json.loads(again.stdout)
    assert all(s["running"] for s in info["services"]), again.stdout
    # the README's `. .kumo/sandbox/env` points kubectl at it
    nodes = subprocess.run(
        ["bash", "-c", ". .kumo/sandbox/env && kubectl get nodes -o name"],
        cwd=demo.checkout,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert nodes.returncode == 0, nodes.stderr
    assert nodes.stdout.split() == [f"node/kumo-node-{i}" for i in range(3)]
