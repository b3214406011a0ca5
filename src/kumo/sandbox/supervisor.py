"""``kumo sandbox up/status/down``: the whole seed system's peers on one machine, as child processes.

The sandbox runs, each as its own process with a PID file and a log in the sandbox directory:

========================  ===================================================================
``kubeapi``               the Kubernetes API emulator with its simulation (the EKS cluster)
``moto``                  moto server: EC2, EKS, IAM, ACM, Route 53 (the AWS account)
``dns``                   a DNS server answering for moto's Route 53 zones (what resolvers see)
``dns-controller``        ``kumo dns run`` with the spec's add-on flags and the route53 provider
                          against moto, talking to the emulator and holding the add-on's Lease
``console``               ``kumo console`` with a token
========================  ===================================================================

``up`` is idempotent: a service whose PID file names a live process of ours is kept, a stale PID
file is removed, and a restarted service gets its previous port back when that port is free. ``up``
writes ``kubeconfig`` and ``env`` (``AWS_ENDPOINT_URL``, fake credentials, ``KUBECONFIG``) to the
directory. ``down`` stops only the processes its PID files name (by PID and start time).

The DNS controller needs a spec (its owner id, zone and sources are the add-on's flags), so it is
started by ``up`` when given one, and by :func:`ensure_dns_controller` (``kumo up --sandbox``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import shlex
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kumo.errors import KumoError, UsageError
from kumo.sandbox.kubeapi import write_kubeconfig
from kumo.sandbox.processes import PidFile, ProcessRecord, log_tail, pick_port, spawn, stop, stop_all
from kumo.spec import Spec

DEFAULT_DIR = Path(".kumo/sandbox")
#: moto accepts any credentials; these make sure nothing ever reaches a real account
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DEFAULT_REGION = "us-east-1"
#: the sandbox's DNS controller renews its Lease every second (a third of this), so it takes the
#: Lease within a second of the add-on's namespace appearing
SANDBOX_LEASE_DURATION = "3s"
SERVICES = ("kubeapi", "moto", "dns", "dns-controller", "console")
READY_TIMEOUT = 60.0
_KUMO_AWS_VARS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE")

Progress = Callable[[str], None]


@dataclass
class Service:
    name: str
    port: int
    pid: int | None = None
    running: bool = False
    started: bool = False  # started by this call (False: found running, or not running)
    address: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "running": self.running,
            "pid": self.pid,
            "port": self.port,
            "address": self.address,
        }


@dataclass
class Sandbox:
    """Where everything of one sandbox is, and what runs."""

    directory: Path
    ports: dict[str, int] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    services: dict[str, Service] = field(default_factory=dict)
    spec_file: str | None = None
    #: what moto was seeded with, as "<moto pid>:<start ticks>:<what>" (a restarted moto is empty)
    seeded: list[str] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def env_file(self) -> Path:
        return self.directory / "env"

    @property
    def token_file(self) -> Path:
        return self.directory / "console.token"

    @property
    def kube_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['kubeapi']}"

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['moto']}"

    @property
    def dns_server(self) -> str:
        """HOST:PORT of the sandbox's DNS server, as ``kumo up --dns-server`` takes it."""
        return f"127.0.0.1:{self.ports['dns']}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['console']}/"

    def console_token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except OSError:
            return ""

    def dig(self, hostname: str) -> str:
        return f"dig @127.0.0.1 -p {self.ports['dns']} {hostname}"

    def env(self) -> dict[str, str]:
        """What a command needs to use this sandbox (also written to the ``env`` file)."""
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "KUBECONFIG": str(self.kubeconfig),
            "KUMO_SANDBOX_DIR": str(self.directory),
            "KUMO_DNS_SERVER": self.dns_server,
            # the cloud step points the EKS cluster's kubeconfig context at the emulator
            "KUMO_KUBECONFIG_ENDPOINT": self.kube_url,
        }

    def as_dict(self) -> dict[str, Any]:
        if not {"kubeapi", "moto", "dns"} <= set(self.ports):  # never started here
            return {"directory": str(self.directory), "services": []}
        return {
            "directory": str(self.directory),
            "kubeconfig": str(self.kubeconfig),
            "envFile": str(self.env_file),
            "kubernetes": self.kube_url,
            "aws": self.aws_url,
            "dnsServer": self.dns_server,
            "console": f"{self.console_url}?token={self.console_token()}" if "console" in self.ports else "",
            "services": [s.as_dict() for s in self.services.values()],
        }


# -- state ------------------------------------------------------------------------------------------


def _state_path(directory: Path) -> Path:
    return directory / "state.json"


def load(directory: Path = DEFAULT_DIR) -> Sandbox:
    """The sandbox recorded in ``directory`` (ports, region), with what runs of it right now."""
    directory = directory.absolute()
    sandbox = Sandbox(directory)
    try:
        state = json.loads(_state_path(directory).read_text())
        sandbox.ports = {str(k): int(v) for k, v in state.get("ports", {}).items()}
        sandbox.region = str(state.get("region") or DEFAULT_REGION)
        sandbox.spec_file = state.get("spec")
        sandbox.seeded = [str(key) for key in state.get("seeded") or []]
    except (OSError, ValueError):
        pass
    for name in SERVICES:
        if name not in sandbox.ports:
            continue
        record = PidFile(directory, name).live()
        if record is None and name == "dns-controller":
            continue  # runs only once a spec asked for it (up --spec, or kumo up --sandbox)
        sandbox.services[name] = Service(
            name,
            sandbox.ports[name],
            record.pid if record else None,
            running=record is not None,
            address=_address(name, sandbox.ports[name]),
        )
    return sandbox


def _address(name: str, port: int) -> str:
    if name == "dns":
        return f"127.0.0.1:{port} (udp+tcp)"
    return f"http://127.0.0.1:{port}"


def _save(sandbox: Sandbox) -> None:
    state = {
        "ports": sandbox.ports,
        "region": sandbox.region,
        "spec": sandbox.spec_file,
        "seeded": sandbox.seeded,
    }
    tmp = _state_path(sandbox.directory).with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(_state_path(sandbox.directory))
    lines = [
        "# Source this file to point kumo, kubectl and AWS SDKs at the sandbox.",
        *(f"export {k}={shlex.quote(v)}" for k, v in sandbox.env().items()),
    ]
    sandbox.env_file.write_text("\n".join(lines) + "\n")


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a sandbox ``env`` file."""
    env: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(
            f"no sandbox environment at {path}", hint="start the sandbox with: kumo sandbox up"
        ) from exc
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("export "):
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        parts = shlex.split(value)
        env[key] = parts[0] if parts else ""
    return env


# -- starting ---------------------------------------------------------------------------------------


def _kumo_argv() -> list[str]:
    """How to run ``kumo`` in a child: the same interpreter, so the same sources (PYTHONPATH too)."""
    return [sys.executable, "-c", "import sys; sys.argv[0] = 'kumo'; from kumo.cli import main; main()"]


def _child_env(sandbox: Sandbox, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _KUMO_AWS_VARS}
    env.update(sandbox.env())
    env.update(extra or {})
    return env


def console_available() -> bool:
    """Whether this kumo has the console (``kumo console``); the sandbox runs it when it does."""
    return importlib.util.find_spec("kumo.console.server") is not None


def _argv(name: str, sandbox: Sandbox) -> tuple[list[str], dict[str, str]]:
    port = sandbox.ports[name]
    if name == "kubeapi":
        return [
            *_kumo_argv(),
            "sandbox",
            "kubeapi",
            "--port",
            str(port),
            "--kubeconfig",
            str(sandbox.directory / "kubeapi.kubeconfig"),
            "--ready-delay",
            "0.5",
            # the EKS cluster the cloud step binds to the emulator authenticates as EKS does
            "--eks-sts-endpoint",
            sandbox.aws_url,
        ], {}
    if name == "moto":
        return [
            sys.executable,
            "-c",
            # the services kumo calls are imported before serving (moto imports each on its first
            # request, EC2 taking seconds): the imports overlap with the other processes' start
            "import sys, importlib\n"
            "for svc in ('ec2', 'iam', 'eks', 'acm', 'route53', 'sts'):\n"
            "    importlib.import_module(f'moto.{svc}.urls')\n"
            "from moto.server import main\n"
            "sys.exit(main())",
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ], {
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            "MOTO_ACM_VALIDATION_WAIT": "1",
            # kumo launches no instances; loading moto's default AMIs makes the first EC2 call seconds slower
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }
    if name == "dns":
        return [sys.executable, "-m", "kumo.sandbox.route53dns", "--listen", f"127.0.0.1:{port}"], {}
    if name == "console":
        return [
            *_kumo_argv(),
            "console",
            "--kubeconfig",
            str(sandbox.kubeconfig),
            "--context",
            "kumo-sandbox",
            "--address",
            f"127.0.0.1:{port}",
            "--token-file",
            str(sandbox.token_file),
            # the DNS views read the sandbox's DNS controller (its port is kept across restarts)
            "--dns-status-url",
            f"http://127.0.0.1:{sandbox.ports['dns-controller']}/status.json",
        ], {}
    raise AssertionError(name)


def _probe(name: str, port: int) -> bool:
    """One readiness check: the service answers on its port."""
    if name == "dns":
        import dns.message
        import dns.query

        try:
            dns.query.udp(dns.message.make_query("kumo-sandbox-probe.", "SOA"), "127.0.0.1", 0.3, port)
            return True
        except Exception:
            return False
    path = {"kubeapi": "/version", "console": "/healthz", "dns-controller": "/healthz"}.get(name, "/")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as resp:
            return int(resp.status) < 500
    except urllib.error.HTTPError as exc:
        # the DNS controller's /healthz says 503 before its first sync; it answers, so it runs
        return name == "dns-controller" or exc.code < 500
    except (OSError, ValueError):
        return False


def _wait_ready(sandbox: Sandbox, names: list[str], records: dict[str, ProcessRecord]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    pending = list(names)
    while pending:
        for name in list(pending):
            if _probe(name, sandbox.ports[name]):
                pending.remove(name)
            elif not records[name].alive():
                raise KumoError(
                    f"the sandbox's {name} exited before it was ready:\n{log_tail(sandbox.directory, name)}",
                    hint=f"see {sandbox.directory / (name + '.log')}",
                )
        if pending and time.monotonic() > deadline:
            raise KumoError(
                f"the sandbox's {', '.join(pending)} did not answer within {READY_TIMEOUT:.0f}s",
                hint=f"see the logs in {sandbox.directory}",
            )
        if pending:
            time.sleep(0.05)


def _write_kubeconfig(sandbox: Sandbox) -> None:
    """The sandbox's kubeconfig: made once, so contexts the cloud step adds to it survive a restart;
    the emulator's context is pointed at its current address."""
    import yaml

    from kumo.sandbox.kubeapi import kubeconfig_dict

    path = sandbox.kubeconfig
    if not path.exists():
        write_kubeconfig(path, sandbox.kube_url)
        return
    data = yaml.safe_load(path.read_text()) or {}
    fresh = kubeconfig_dict(sandbox.kube_url)
    clusters = [c for c in data.get("clusters") or [] if c.get("name") != "kumo-sandbox"]
    data["clusters"] = [*fresh["clusters"], *clusters]
    for cluster in data["clusters"]:
        # every context in this file is the emulator (the cloud step binds EKS clusters to it)
        cluster.setdefault("cluster", {})["server"] = sandbox.kube_url
    users = [u for u in data.get("users") or [] if u.get("name") != "kumo-sandbox"]
    data["users"] = [*fresh["users"], *users]
    contexts = [c for c in data.get("contexts") or [] if c.get("name") != "kumo-sandbox"]
    data["contexts"] = [*fresh["contexts"], *contexts]
    data.setdefault("current-context", "kumo-sandbox")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def up(
    directory: Path = DEFAULT_DIR,
    spec: Spec | None = None,
    spec_file: str | None = None,
    progress: Progress | None = None,
) -> Sandbox:
    """Start what does not run yet (reuse what does) and wait until every service answers."""
    say = progress or (lambda _text: None)
    directory = directory.absolute()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    sandbox = load(directory)
    if spec is not None and spec.target.cloud == "aws" and spec.target.region:
        sandbox.region = spec.target.region
    if spec_file is not None:
        sandbox.spec_file = spec_file
    if not sandbox.token_file.exists():
        sandbox.token_file.write_text(secrets.token_urlsafe(24) + "\n")
        os.chmod(sandbox.token_file, 0o600)
    # moto first: it has the longest start
    names = ["moto", "kubeapi", "dns"] + (["console"] if console_available() else [])
    records: dict[str, ProcessRecord] = {}
    started: list[str] = []
    for name in names:
        record = PidFile(directory, name).live()
        if record is not None and name in sandbox.ports:
            records[name] = record
            continue
        sandbox.ports[name] = pick_port(sandbox.ports.get(name))
    if PidFile(directory, "dns-controller").live() is None:
        sandbox.ports["dns-controller"] = pick_port(sandbox.ports.get("dns-controller"))
    _save(sandbox)  # the env file must name moto before the DNS server starts
    _write_kubeconfig(sandbox)  # the console reads it at start
    for name in names:
        if name in records:
            continue
        argv, extra = _argv(name, sandbox)
        records[name] = spawn(directory, name, argv, _child_env(sandbox, extra))
        started.append(name)
        say(f"started {name} (pid {records[name].pid})")
    # the cluster and the account first: the spec's preparation needs them, and it overlaps with
    # the start of the others
    _wait_ready(sandbox, ["kubeapi", "moto"], records)
    say(f"the cluster answers at {sandbox.kube_url}, the AWS account at {sandbox.aws_url}")
    if spec is not None:
        prepare(sandbox, spec, progress=say)
    _wait_ready(sandbox, names, records)
    result = load(directory)
    for name in started:
        result.services[name].started = True
    return result


@contextlib.contextmanager
def environment(sandbox: Sandbox) -> Iterator[None]:
    """This process's environment pointed at the sandbox (boto3 reads ``AWS_ENDPOINT_URL`` from it)."""
    saved = dict(os.environ)
    for key in _KUMO_AWS_VARS:
        os.environ.pop(key, None)
    os.environ.update(sandbox.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def prepare(sandbox: Sandbox, spec: Spec, progress: Progress | None = None) -> None:
    """Make the sandbox ready for ``spec``: the account holds what its cloud step looks up (VPC,
    subnets, zone), the simulated cluster is in the spec's cloud and region, and the spec's DNS
    controller runs. Idempotent."""
    say = progress or (lambda _text: None)
    route53 = spec.dns is not None and spec.dns.provider == "route53"
    if spec.target.cloud == "aws" or route53:
        from kumo.sandbox.awsseed import seed_aws

        region = (spec.target.region if spec.target.cloud == "aws" else None) or DEFAULT_REGION
        moto = PidFile(sandbox.directory, "moto").live()
        what = json.dumps(
            [region, spec.cluster.model_dump(mode="json") if spec.cluster else spec.app]
            + ([spec.dns.zone, spec.dns.zone_type] if spec.dns and route53 else []),
            sort_keys=True,
        )
        key = f"{moto.pid}:{moto.ticks}:{hashlib.sha256(what.encode()).hexdigest()[:16]}" if moto else ""
        if key not in sandbox.seeded:
            with environment(sandbox):
                seeded = seed_aws(spec, region=region)
            zone = f" and zone {seeded.zone_name}" if seeded.zone_name else ""
            say(f"moto holds VPC {seeded.vpc_id}{zone}")
            sandbox.seeded = [k for k in sandbox.seeded if moto and k.startswith(f"{moto.pid}:")] + [key]
            _save(sandbox)
    bind_nodes(sandbox, spec)
    ensure_dns_controller(sandbox, spec, progress=say)


def _node_identity(cloud: str, region: str, node: str, index: int) -> tuple[str, str, str]:
    """(region, zone, providerID) a Node of ``cloud`` would carry."""
    if cloud == "aws":
        zone = f"{region}{'abc'[index % 3]}"
        digest = hashlib.sha256(node.encode()).hexdigest()[:17]
        return region, zone, f"aws:///{zone}/i-{digest}"
    if cloud == "gcp":
        zone = f"{region}-{'abc'[index % 3]}"
        return region, zone, f"gce://kumo-sandbox/{zone}/{node}"
    if cloud == "azure":
        return (
            region,
            f"{region}-{index % 3 + 1}",
            (
                "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/kumo-sandbox"
                f"/providers/Microsoft.Compute/virtualMachines/{node}"
            ),
        )
    return region, f"{region}-{index % 3 + 1}", f"kumo://{node}"


def bind_nodes(sandbox: Sandbox, spec: Spec) -> None:
    """Give the simulated Nodes the identity of the spec's cloud and region (labels, providerID).
    The simulation reads it back to name load balancers as that cloud does (ELB/NLB/ALB hostnames
    in that region on aws, IP addresses elsewhere), so ALIAS zone ids come out right."""
    cloud = spec.target.cloud
    region = spec.target.region or ("sandbox" if cloud == "generic" else DEFAULT_REGION)
    nodes = _kube(sandbox, "GET", "/api/v1/nodes")["items"]
    for index, node in enumerate(sorted(nodes, key=lambda n: n["metadata"]["name"])):
        name = node["metadata"]["name"]
        node_region, zone, provider = _node_identity(cloud, region, name, index)
        patch = {
            "metadata": {
                "labels": {"topology.kubernetes.io/region": node_region, "topology.kubernetes.io/zone": zone}
            },
            "spec": {"providerID": provider},
        }
        _kube(sandbox, "PATCH", f"/api/v1/nodes/{name}", patch, "application/merge-patch+json")


def _kube(
    sandbox: Sandbox,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    content_type: str = "application/json",
    accept: tuple[int, ...] = (),
) -> dict[str, Any]:
    """One call to the sandbox's emulator (the supervisor is no client; this keeps it light)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{sandbox.kube_url}{path}", data=data, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            result: dict[str, Any] = json.load(resp)
            return result
    except urllib.error.HTTPError as exc:
        if exc.code in accept:
            return {}
        raise KumoError(f"the sandbox's emulator refused {method} {path}: HTTP {exc.code}") from exc
    except OSError as exc:
        raise KumoError(f"the sandbox's emulator at {sandbox.kube_url} does not answer: {exc}") from exc


def dns_controller_argv(sandbox: Sandbox, spec: Spec) -> list[str] | None:
    """The add-on's own ``kumo dns run`` flags, pointed at the sandbox; None without a controller."""
    from kumo.render import controller_args

    if spec.dns is None or not spec.dns.controller.enabled or spec.dns.provider != "route53":
        return None  # the sandbox stands in for Route 53 only; other providers' add-ons stay simulated
    args = [a for a in controller_args(spec) if not a.startswith("--metrics-address")]
    return [
        *_kumo_argv(),
        *args,
        f"--metrics-address=127.0.0.1:{sandbox.ports['dns-controller']}",
        f"--lease-duration={SANDBOX_LEASE_DURATION}",
        f"--kubeconfig={sandbox.kubeconfig}",
        "--context=kumo-sandbox",
    ]


def _ensure_namespace(sandbox: Sandbox, name: str) -> None:
    """The Lease lives in the add-on's namespace; made now, the controller takes the Lease at once
    instead of retrying until ``kumo up`` applies the add-on (which then adopts the namespace)."""
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    _kube(sandbox, "POST", "/api/v1/namespaces", body, accept=(409,))


def ensure_dns_controller(sandbox: Sandbox, spec: Spec, progress: Progress | None = None) -> Service | None:
    """Run the spec's DNS controller as a sandbox process; restart it when its flags changed."""
    say = progress or (lambda _text: None)
    name = "dns-controller"
    pidfile = PidFile(sandbox.directory, name)
    record = pidfile.live()
    if record is None or name not in sandbox.ports:
        # its previous port when free: the console reads /status.json there
        sandbox.ports[name] = pick_port(sandbox.ports.get(name))
    argv = dns_controller_argv(sandbox, spec)
    if argv is None:
        return None
    if record is not None and list(record.argv) == argv:
        return Service(
            name, sandbox.ports[name], record.pid, running=True, address=_address(name, sandbox.ports[name])
        )
    if record is not None:
        say("restarting the DNS controller with the spec's flags")
        stop(record)
        sandbox.ports[name] = pick_port(sandbox.ports[name])
        argv = dns_controller_argv(sandbox, spec)
        assert argv is not None
    _save(sandbox)
    assert spec.dns is not None
    _ensure_namespace(sandbox, spec.dns.controller.namespace)
    extra = {
        "POD_NAMESPACE": spec.dns.controller.namespace,
        "POD_NAME": f"sandbox-dns-controller-{socket.gethostname()}",
    }
    record = spawn(sandbox.directory, name, argv, _child_env(sandbox, extra))
    say(f"started {name} (pid {record.pid})")
    _wait_ready(sandbox, [name], {name: record})
    return Service(
        name,
        sandbox.ports[name],
        record.pid,
        running=True,
        started=True,
        address=_address(name, sandbox.ports[name]),
    )


# -- stopping ---------------------------------------------------------------------------------------


def down(directory: Path = DEFAULT_DIR, purge: bool = False, progress: Progress | None = None) -> list[str]:
    """Stop what this sandbox started (by PID file), in reverse order; ``purge`` removes the directory."""
    say = progress or (lambda _text: None)
    directory = directory.absolute()
    stopped = []
    # clients first (the DNS controller releases its Lease while the emulator still answers), then
    # the servers; each wave stops at once
    for wave in (("console", "dns-controller"), ("dns", "moto", "kubeapi")):
        records = []
        for name in wave:
            pidfile = PidFile(directory, name)
            record = pidfile.live()
            if record is not None:
                records.append(record)
        stop_all(records)
        for record in records:
            stopped.append(record.name)
            say(f"stopped {record.name} (pid {record.pid})")
        for name in wave:
            PidFile(directory, name).path.unlink(missing_ok=True)
    if purge and directory.exists():
        if not _state_path(directory).exists() and any(directory.iterdir()):
            raise UsageError(
                f"{directory} does not look like a sandbox directory (no state.json); not removing it"
            )
        shutil.rmtree(directory)
    return stopped
