"""Run the official Python client's and lightkube's e2e suites against the emulator (see
conformance.sh); print pass/fail counts, container-runtime tests apart."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPOS = {
    "python": ("https://github.com/kubernetes-client/python", "kubernetes/e2e_test"),
    "lightkube": ("https://github.com/gtsystem/lightkube", "e2e-tests"),
}
# More of a suite that its package itself ships: the official client's wheel carries the dynamic
# client's end-to-end tests (they use e2e_test's connection bootstrap like the rest).
SHIPPED = {"python": ["kubernetes/dynamic/test_client.py", "kubernetes/dynamic/test_discovery.py"]}
# Tests that need a real container runtime behind the API: exec, attach, port-forward, or what a
# container prints. The emulator runs no containers, so these are reported apart.
CONTAINER_TESTS = {
    "python": {
        "test_pod_apis",  # exec
        "test_pod_exec_close_channel",
        "test_exit_code",
        "test_portforward_raw",
        "test_portforward_http",
    },
    "lightkube": {"test_pod_apis"},  # reads busybox's own output
}

# Tests that fail before they reach any server, from a defect of the suite itself; reported apart
# with the reason, so a count never hides an emulator gap behind them.
_V1BETA1 = "creates CRDs as apiextensions.k8s.io/v1beta1, removed in Kubernetes 1.22"
SUITE_DEFECTS = {
    "python": {
        "test_cluster_custom_resources": _V1BETA1,
        "test_namespaced_custom_resources": _V1BETA1,
        "test_async_namespaced_custom_resources": _V1BETA1,
        # Resource.__eq__ compares __dict__, which holds the DynamicClient: two clients never match
        "test_cache_decoder_resource_and_subresource": "compares Resources of two DynamicClients",
    },
    "lightkube": {
        # the fixture sets `crd.spec.names.shortnames`, an attribute lightkube-models' slotted
        # dataclasses do not have: AttributeError in setup, on every cluster
        "test_load_in_cluster_generic_resources": "fixture sets names.shortnames (AttributeError)",
        "test_load_in_cluster_generic_resources_async": "fixture sets names.shortnames (AttributeError)",
    },
}


def sources(base: Path | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    cache = Path.home() / ".cache" / "kumo" / "conformance"
    for name, (url, sub) in REPOS.items():
        root = (base / name) if base else (cache / name)
        if not (root / sub).is_dir():
            if base:
                sys.exit(f"conformance: {root / sub} does not exist (KUMO_CONFORMANCE_SRC={base})")
            root.parent.mkdir(parents=True, exist_ok=True)
            clone = subprocess.run(["git", "clone", "--depth", "1", url, str(root)], check=False)
            if clone.returncode != 0:
                sys.exit(
                    f"conformance: cannot clone {url}; set KUMO_CONFORMANCE_SRC to a directory with "
                    "checkouts named python/ and lightkube/"
                )
        out[name] = root
    return out


def start_emulator(home: Path) -> subprocess.Popen[str]:
    kubeconfig = home / ".kube" / "config"
    log = (home / "emulator.log").open("w")
    proc = subprocess.Popen(
        ["kumo", "sandbox", "kubeapi", "--port", "0", "--kubeconfig", str(kubeconfig)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not kubeconfig.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"conformance: the emulator did not start:\n{proc.stdout.read() if proc.stdout else ''}"
            )
        time.sleep(0.1)
    return proc


def overlay(root: Path, work: Path) -> Path:
    """A directory where ``kubernetes.e2e_test`` imports: the checkout itself when it is a full one;
    for a copy of the suite alone, the installed client's package with the suite put beside its
    subpackages (symlinks), so the tests run against the client pinned here."""
    if (root / "kubernetes" / "client").is_dir():
        return root
    import kubernetes

    installed = Path(kubernetes.__file__).parent
    pkg = work / "overlay" / "kubernetes"
    pkg.mkdir(parents=True)
    for entry in installed.iterdir():
        if entry.name not in ("e2e_test", "__pycache__"):
            (pkg / entry.name).symlink_to(entry)
    (pkg / "e2e_test").symlink_to((root / "kubernetes" / "e2e_test").resolve())
    return pkg.parent


def run_suite(name: str, root: Path, home: Path, report: Path, timeout: int) -> list[tuple[str, str]]:
    sub = REPOS[name][1]
    if name == "python":
        root = overlay(root, home)
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": str(home / ".kube" / "config")}
    env.pop("PYTHONPATH", None)  # the suite imports its own client; the emulator runs apart
    shipped = [p for p in SHIPPED.get(name, []) if (root / p).is_file()]
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        sub,
        *shipped,
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        f"--junitxml={report}",
        "-o",
        "asyncio_mode=auto",
        f"--timeout={timeout}",
    ]
    subprocess.run(cmd, cwd=root, env=env, check=False)
    results: list[tuple[str, str]] = []
    for case in ET.parse(report).getroot().iter("testcase"):
        test = case.get("name", "")
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        results.append((test, outcome))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per test")
    args = parser.parse_args()
    base = os.environ.get("KUMO_CONFORMANCE_SRC")
    roots = sources(Path(base).expanduser() if base else None)
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    with tempfile.TemporaryDirectory(prefix="kumo-conformance-") as tmp:
        lines = []
        for name, root in roots.items():
            home = Path(tmp) / name
            (home / ".kube").mkdir(parents=True)
            emulator = start_emulator(home)
            try:
                results = run_suite(name, root, home, Path(tmp) / f"{name}.xml", args.timeout)
            finally:
                emulator.terminate()
                emulator.wait(30)
            defects = SUITE_DEFECTS.get(name, {})
            apart = CONTAINER_TESTS[name] | set(defects)
            api = [(t, o) for t, o in results if t.split("[")[0] not in apart]
            runtime = [(t, o) for t, o in results if t.split("[")[0] in CONTAINER_TESTS[name]]
            broken = [(t, o) for t, o in results if t.split("[")[0] in defects]
            counts = {k: sum(1 for _, o in api if o == k) for k in totals}
            for k in totals:
                totals[k] += counts[k]
            failed = [t for t, o in api if o == "failed"]
            lines.append(
                f"{name}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
                f" (needing a container runtime, apart: {sum(1 for _, o in runtime if o == 'passed')} passed,"
                f" {sum(1 for _, o in runtime if o != 'passed')} not)"
                + (f"; failed: {', '.join(failed)}" if failed else "")
                + "".join(
                    f"; apart, a defect of the suite: {t} {o} ({defects[t.split('[')[0]]})" for t, o in broken
                )
            )
        print("\n== conformance")
        for line in lines:
            print(line)
        print(
            f"conformance: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped"
        )


if __name__ == "__main__":
    main()
