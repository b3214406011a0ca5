"""kumo up versus kubectl apply --server-side + kubectl rollout status, on the same emulator.

kumo's CLI is timed twice: as users run it, with its resident server up (kumo.cli.server, started by
the first command, untimed here as kubectl's disk cache is), and cold (KUMO_SERVER=off: a whole
Python start-up and import per command).

Two workloads: the example (examples/hello-generic) and one release of 50 apps (50 Deployments +
50 LoadBalancer Services). Each tool deploys the same rendered objects into its own namespace,
first as a create and then as an image update that rolls every Deployment. For kubectl, API
requests are counted from its -v=6 request log; for kumo, from KubeClient.request_count (watches
included). The emulator runs in its own process, so neither tool shares a CPU core's GIL with it;
each round has a new one (an emulator ages: see one_round), on which every tool runs in turn.
kumo's modules are byte-compiled first, as an installed kumo's are.

Run: .venv/bin/python benchmarks/deploy_bench.py [--rounds 3]
Prints one JSON document: per workload and step, the median wall time and requests of each tool,
and the ratio kumo/kubectl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kumo.deploy import DeployOptions, load_release, up
from kumo.kube import connect
from kumo.render import to_yaml_stream
from kumo.sandbox.kubeapi.runner import KubeAPIProcess

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hello-generic" / "kumo.yaml"
KUMO = str(Path(sys.executable).parent / "kumo")
KUBECTL = str(Path(sys.executable).parent / "kubectl")
# kubectl -v=6 logs one line per response: ... "Response" verb="GET" url="..." status="200 OK"
_REQUEST_LINE = re.compile(r'"Response" verb="[A-Z]+"')


def compile_kumo() -> None:
    """Byte-compile kumo's modules, as ``pip install`` does. Run from a source tree with
    PYTHONDONTWRITEBYTECODE set (as on the project's machines), every ``kumo`` process would
    otherwise compile its ~50 modules first (~75 ms), which no installed kumo pays."""
    import compileall

    import kumo

    compileall.compile_dir(str(Path(kumo.__file__).parent), quiet=1)


def many_apps_spec(app: str, image: str, count: int = 50) -> str:
    services = "".join(
        f"""  - name: app{i:02d}
    image: {image}
    replicas: 2
    port: 80
    resources:
      requests: {{cpu: 10m, memory: 16Mi}}
      limits: {{memory: 32Mi}}
    endpoint:
      hostname: app{i:02d}.{app}.sandbox.test
      expose: loadbalancer
      tls: "off"
      ports: [{{port: 80, protocol: http}}]
"""
        for i in range(count)
    )
    return (
        f"app: {app}\ntarget: {{cloud: generic}}\n"
        f"dns: {{zone: sandbox.test, provider: local, controller: {{enabled: false}}}}\nservices:\n{services}"
    )


def example_spec(app: str, image: str) -> str:
    text = EXAMPLE.read_text()
    return (
        text.replace("app: hello", f"app: {app}", 1)
        .replace("image: nginx:1.27", f"image: {image}", 1)
        .replace("hostname: hello.sandbox.test", f"hostname: {app}.sandbox.test")
    )


def run_kumo_cli(spec: Path, kubeconfig: str, env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(
        [KUMO, "up", str(spec), "--kubeconfig", kubeconfig, "--dns-timeout", "0", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"kumo up failed:\n{result.stderr}")
    return took, int(json.loads(result.stdout)["apiRequests"])


async def run_kumo_inprocess(spec: Path, kubeconfig: str) -> tuple[float, int]:
    rendered = load_release(spec, None)
    started = time.perf_counter()
    result = await up(rendered, DeployOptions(kubeconfig=kubeconfig, dns_timeout=0))
    return time.perf_counter() - started, result.api_requests


def run_kubectl(spec: Path, kubeconfig: str, workdir: Path) -> tuple[float, int]:
    """kubectl apply --server-side of the same rendered objects, then rollout status of each Deployment."""
    rendered = load_release(spec, None)
    manifest = workdir / f"{rendered.release}.yaml"
    manifest.write_text(to_yaml_stream(rendered.addons + rendered.objects))
    base = [KUBECTL, "--kubeconfig", kubeconfig, "-v=6"]
    started = time.perf_counter()
    requests = 0
    apply = subprocess.run(
        [*base, "apply", "--server-side", "--force-conflicts", "-f", str(manifest)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if apply.returncode != 0:
        raise SystemExit(f"kubectl apply failed:\n{apply.stderr[-3000:]}")
    requests += len(_REQUEST_LINE.findall(apply.stderr))
    status = subprocess.run(
        [
            *base,
            "rollout",
            "status",
            "deployment",
            "-n",
            rendered.namespace,
            "--timeout=600s",
            "-l",
            f"kumo.dev/release={rendered.release}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if status.returncode != 0:
        raise SystemExit(f"kubectl rollout status failed:\n{status.stderr[-3000:]}")
    requests += len(_REQUEST_LINE.findall(status.stderr))
    return time.perf_counter() - started, requests


async def gone(kube: Any, namespace: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while await kube.get("v1", "Namespace", namespace) is not None:
        if time.monotonic() > deadline:
            raise SystemExit(f"namespace {namespace} still there after {timeout} s")
        await asyncio.sleep(0.2)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def cli_env(workdir: Path, tool: str) -> dict[str, str]:
    """The CLI's environment: its own runtime directory for the server socket, or no server."""
    runtime = workdir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    if tool == "kumo-cli-cold":
        env["KUMO_SERVER"] = "off"
    return env


def start_server(spec: Path, workdir: Path) -> None:
    """A cold served command (``kumo render``) starts the server in the background; wait until it
    serves, then send it one command so that its first timed one is not its first."""
    env = cli_env(workdir, "kumo-cli")
    render = [KUMO, "render", str(spec)]
    subprocess.run(render, capture_output=True, env=env, check=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = subprocess.run([KUMO, "server", "status", "--output", "json"], capture_output=True, env=env)
        if any(s["current"] for s in json.loads(status.stdout)["servers"]):
            subprocess.run(render, capture_output=True, env=env, check=True)
            return
        time.sleep(0.1)
    raise SystemExit("kumo's server did not start within 30 s")


async def measure(tool: str, spec: Path, kubeconfig: Path, workdir: Path) -> tuple[float, int]:
    if tool in ("kumo-cli", "kumo-cli-cold"):
        return await asyncio.to_thread(run_kumo_cli, spec, str(kubeconfig), cli_env(workdir, tool))
    if tool == "kumo-engine":
        return await run_kumo_inprocess(spec, str(kubeconfig))
    return await asyncio.to_thread(run_kubectl, spec, str(kubeconfig), workdir)


def summarize(rows: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for step in ("create", "update"):
        per_tool: dict[str, Any] = {
            tool: {
                "seconds": median(rows[f"{step}/{tool}"]["seconds"]),
                "requests": int(statistics.median(rows[f"{step}/{tool}"]["requests"])),
            }
            for tool in TOOLS
        }
        kubectl = per_tool["kubectl"]
        for cli in ("kumo-cli", "kumo-cli-cold"):
            per_tool[f"ratio_{cli.replace('-', '_')}_to_kubectl"] = {
                "seconds": round(per_tool[cli]["seconds"] / kubectl["seconds"], 2),
                "requests": round(per_tool[cli]["requests"] / max(1, kubectl["requests"]), 2),
            }
        summary[step] = per_tool
    return summary


TOOLS = ("kumo-cli", "kumo-cli-cold", "kumo-engine", "kubectl")


Make = Callable[[str, str], str]


async def one_round(
    workload: str, make: Make, r: int, workdir: Path, rows: dict[str, dict[str, list[float]]]
) -> None:
    """Every tool's create and update, each on the same fresh emulator: one emulator for all the
    rounds slowed down as it aged (the 50-app update took 10 s in the first rounds and 20 s in the
    last, for every tool), which made medians depend on the order of the tools."""
    kubeconfig = workdir / f"kubeconfig-{workload}-{r}"
    with KubeAPIProcess(kubeconfig=kubeconfig, seed=0, extra_args=["--ready-delay", "0.2"]):
        async with await connect(str(kubeconfig)) as kube:
            # Install the add-ons (the DNS controller), untimed, so no tool pays for them alone.
            warmup = workdir / "warmup.yaml"
            await run_kumo_inprocess(warmup, str(kubeconfig))
            await kube.delete("v1", "Namespace", "warmup")
            await gone(kube, "warmup")
            # kubectl's discovery cache (~/.kube/cache) for this new server, as in everyday use: each
            # emulator has another port, and a cold cache costs kubectl ~22 discovery requests.
            subprocess.run(
                [KUBECTL, "--kubeconfig", str(kubeconfig), "api-resources"], capture_output=True, check=True
            )
            # Each round starts with another tool: none always follows the same one.
            for tool in TOOLS[r % len(TOOLS) :] + TOOLS[: r % len(TOOLS)]:
                app = f"{workload.replace('-', '')}-{tool.replace('-', '')}-{r}"
                spec = workdir / f"{app}.yaml"
                for step, image in (("create", "nginx:1.27"), ("update", "nginx:1.28")):
                    spec.write_text(make(app, image))
                    took, reqs = await measure(tool, spec, kubeconfig, workdir)
                    print(f"{workload} {step} {tool}: {took:.2f}s {reqs} requests", file=sys.stderr)
                    cell = rows.setdefault(f"{step}/{tool}", {"seconds": [], "requests": []})
                    cell["seconds"].append(took)
                    cell["requests"].append(reqs)
                # Free the simulated nodes for the next tool (not measured), and wait until the
                # namespace is gone: its Pods' termination must not overlap the next run.
                await kube.delete("v1", "Namespace", app)
                await gone(kube, app)


async def bench(rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    compile_kumo()
    with tempfile.TemporaryDirectory(prefix="kumo-deploy-bench-") as tmp:
        workdir = Path(tmp)
        warmup = workdir / "warmup.yaml"
        warmup.write_text(example_spec("warmup", "nginx:1.27"))
        await asyncio.to_thread(start_server, warmup, workdir)
        try:
            workloads: tuple[tuple[str, Make], ...] = (("example", example_spec), ("50-apps", many_apps_spec))
            for workload, make in workloads:
                rows: dict[str, dict[str, list[float]]] = {}
                for r in range(rounds):
                    await one_round(workload, make, r, workdir, rows)
                results[workload] = summarize(rows)
        finally:
            subprocess.run([KUMO, "server", "stop"], capture_output=True, env=cli_env(workdir, "kumo-cli"))
    return {
        "benchmark": "deploy",
        "rounds": rounds,
        "emulator": {"pod_ready_delay_s": 0.2, "process": "separate, a new one per round"},
        "cpus": os.cpu_count(),
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args.rounds)), indent=2))


if __name__ == "__main__":
    main()
