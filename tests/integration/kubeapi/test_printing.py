"""What kubectl prints: `get` with CRDs' additionalPrinterColumns and `-o wide`, the
HorizontalPodAutoscaler `kubectl autoscale` makes (over protobuf) with the status the simulated
controller reports, and `logs` (follow, timestamps, tail, previous, limit-bytes)."""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation
from tests.integration.kubeapi.helpers import KUBECTL, deployment, eventually, kubectl, kubectl_json

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              replicas: {type: integer}
              image: {type: string}
          status:
            type: object
            properties:
              conditions:
                type: array
                items: {type: object, properties: {type: {type: string}, status: {type: string}}}
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Schedule, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Image, type: string, priority: 1, jsonPath: .spec.image}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"""

CRONTAB = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: nightly}
spec: {cronSpec: "0 3 * * *", replicas: 3, image: backup:1.0}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeAPI]:
    path: Path = tmp_path_factory.mktemp("printing") / "kubeconfig"
    with KubeAPI(
        kubeconfig=path,
        seed=0,
        controllers=simulation(
            pod_ready_delay=0.1, termination_delay=0.1, hpa_sync_period=0.2, crash_interval=0.2
        ),
    ) as emulator:
        yield emulator


def _table(kc: str, *args: str) -> list[list[str]]:
    lines = kubectl(kc, "get", *args).stdout.splitlines()
    return [line.split() for line in lines]


def test_crd_printer_columns_and_wide(api: KubeAPI) -> None:
    kc = api.kubeconfig
    kubectl(kc, "apply", "-f", "-", input=CRD)
    kubectl(kc, "wait", "--for=condition=Established", "crd/crontabs.stable.example.com")
    kubectl(kc, "apply", "-f", "-", input=CRONTAB)
    header, row = _table(kc, "ct")
    assert header == ["NAME", "SCHEDULE", "REPLICAS", "READY", "AGE"]
    assert row[:3] == ["nightly", "0", "3"] and row[3:6] == ["*", "*", "*"] and row[6] == "3"
    # a missing value is an empty cell; the date column is an age
    assert row[-1].endswith("s") and len(row) == 8
    header, row = _table(kc, "ct", "-o", "wide")
    assert header == ["NAME", "SCHEDULE", "REPLICAS", "READY", "IMAGE", "AGE"]
    assert "backup:1.0" in row
    # the JSONPath filter picks the Ready condition once status has one
    kubectl(
        kc,
        "patch",
        "ct",
        "nightly",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"conditions": [{"type": "Synced", "status": "False"},'
        ' {"type": "Ready", "status": "True"}]}}',
    )
    header, row = _table(kc, "ct")
    assert row[header.index("READY") + 4] == "True"  # the schedule spans five words


def test_wide_columns_of_builtins(api: KubeAPI) -> None:
    kc = api.kubeconfig
    kubectl(kc, "apply", "-f", "-", input=deployment(name="wide", replicas=1, image="nginx:1.27"))
    kubectl(kc, "expose", "deployment", "wide", "--port=80")
    kubectl(kc, "rollout", "status", "deployment/wide", "--timeout=60s")
    header, row = _table(kc, "deploy", "wide", "-o", "wide")
    assert header[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and row[-3:] == [
        "web",
        "nginx:1.27",
        "app=wide",
    ]
    header, row = _table(kc, "svc", "wide", "-o", "wide")
    assert header[-1] == "SELECTOR" and row[-1] == "app=wide"
    pod = kubectl_json(kc, "get", "pods", "-l", "app=wide")["items"][0]
    header, row = _table(kc, "pod", pod["metadata"]["name"], "-o", "wide")
    assert header[5:7] == ["IP", "NODE"]
    assert row[5:7] == [pod["status"]["podIP"], pod["spec"]["nodeName"]]
    kubectl(kc, "create", "configmap", "two", "--from-literal=a=1", "--from-literal=b=2")
    kubectl(kc, "create", "secret", "generic", "opaque", "--from-literal=k=v")
    assert _table(kc, "cm", "two")[1][1] == "2"
    assert _table(kc, "secret", "opaque")[1][1:3] == ["Opaque", "1"]


def test_kubectl_autoscale_makes_an_hpa_the_controller_reports_on(api: KubeAPI) -> None:
    kc = api.kubeconfig
    kubectl(kc, "apply", "-f", "-", input=deployment(name="scaled", replicas=1, image="nginx:1.27"))
    # kubectl autoscale sends an autoscaling/v2 object as protobuf
    out = kubectl(kc, "autoscale", "deployment", "scaled", "--min=2", "--max=4", "--cpu=60%").stdout
    assert "horizontalpodautoscaler.autoscaling/scaled autoscaled" in out
    hpa = kubectl_json(kc, "get", "hpa", "scaled")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": 60,
    }
    # below minReplicas: the controller scales the target up to 2 and says why
    eventually(lambda: kubectl_json(kc, "get", "deploy", "scaled")["spec"]["replicas"] == 2)
    hpa = eventually(
        lambda: (h := kubectl_json(kc, "get", "hpa", "scaled"))["status"].get("currentReplicas") == 2 and h
    )

    def active(h: dict[str, Any]) -> dict[str, Any]:
        return {c["type"]: c for c in h["status"]["conditions"]}["ScalingActive"]

    # until a target Pod runs, the controller has no metrics at all; once one runs, it says why
    # utilization still cannot be computed (an evaluation every hpa_sync_period)
    hpa = eventually(
        lambda: "missing request" in active(h := kubectl_json(kc, "get", "hpa", "scaled"))["message"] and h
    )
    conditions = {c["type"]: c for c in hpa["status"]["conditions"]}
    # the template has no CPU request: no utilization can be computed
    assert conditions["ScalingActive"]["status"] == "False"
    assert "missing request for cpu" in conditions["ScalingActive"]["message"]
    header, row = _table(kc, "hpa", "scaled")
    assert header == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert row[:3] == ["scaled", "Deployment/scaled", "cpu:"] and row[3:8] == [
        "<unknown>/60%",
        "2",
        "4",
        "2",
        row[7],
    ]
    # with a request, utilization is read from the metrics and reported
    kubectl(kc, "set", "resources", "deployment", "scaled", "--requests=cpu=100m")
    hpa = eventually(
        lambda: (h := kubectl_json(kc, "get", "hpa", "scaled"))["status"].get("currentMetrics") and h
    )
    current = hpa["status"]["currentMetrics"][0]["resource"]["current"]
    assert 0 < current["averageUtilization"] <= 100
    conditions = {c["type"]: c for c in hpa["status"]["conditions"]}
    assert conditions["ScalingActive"]["reason"] == "ValidMetricFound"
    assert hpa["status"]["desiredReplicas"] >= 2


def test_hpa_defaults_and_replication_controller_labels(api: KubeAPI) -> None:
    kc = api.kubeconfig
    hpa = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: plain}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: absent}
  maxReplicas: 3
  behavior: {}
"""
    kubectl(kc, "apply", "-f", "-", input=hpa)
    got = kubectl_json(kc, "get", "hpa", "plain")
    assert got["spec"]["minReplicas"] == 1
    assert got["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    assert got["spec"]["behavior"]["scaleUp"]["policies"][0] == {
        "type": "Pods",
        "value": 4,
        "periodSeconds": 15,
    }
    hpa_status = eventually(lambda: kubectl_json(kc, "get", "hpa", "plain")["status"].get("conditions"))
    assert (
        hpa_status[0]["reason"] == "FailedGetScale"
        and 'deployments.apps "absent" not found' in hpa_status[0]["message"]
    )
    rc = """\
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
"""
    kubectl(kc, "apply", "-f", "-", input=rc)
    got = kubectl_json(kc, "get", "rc", "legacy")
    assert got["metadata"]["labels"] == {"app": "legacy"} and got["spec"]["selector"] == {"app": "legacy"}
    eventually(lambda: _table(kc, "rc", "legacy")[1][3] == "1")
    header, row = _table(kc, "rc", "legacy", "-o", "wide")
    assert header == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert row[-3:] == ["c", "nginx:1.27", "app=legacy"]


def _running(kc: str, name: str) -> None:
    eventually(lambda: kubectl_json(kc, "get", "pod", name)["status"].get("containerStatuses"))


def test_logs_follow_a_crash_loop_with_timestamps(api: KubeAPI) -> None:
    kc = api.kubeconfig
    kubectl(kc, "run", "crasher", "--image=app:crash")
    _running(kc, "crasher")
    follow = subprocess.Popen(
        [KUBECTL, "--kubeconfig", kc, "logs", "-f", "--timestamps", "crasher"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        # every restart adds lines to the open stream: more than one run's worth arrives
        got = [follow.stdout.readline() for _ in range(6)]
    finally:
        follow.kill()
        follow.wait()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"
    for line in got:
        assert re.fullmatch(rf"{stamp} container crasher (started|exited with code 1)\n", line), got
    assert sum("exited with code 1" in line for line in got) >= 2
    plain = kubectl(kc, "logs", "crasher", "--tail=1").stdout
    assert len(plain.splitlines()) == 1 and not re.match(stamp, plain)
    assert "exited with code 1" in kubectl(kc, "logs", "crasher", "--previous").stdout
    assert kubectl(kc, "logs", "crasher", "--limit-bytes=9").stdout == "container"


def test_logs_follow_ends_with_the_pod(api: KubeAPI) -> None:
    kc = api.kubeconfig
    kubectl(kc, "run", "steady", "--image=nginx:1.27")
    _running(kc, "steady")
    follow = subprocess.Popen(
        [KUBECTL, "--kubeconfig", kc, "logs", "-f", "steady"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline() == "container steady started\n"
        assert follow.poll() is None  # still following
        kubectl(kc, "delete", "pod", "steady", "--wait=false")
        # the stream closes when the Pod is gone and kubectl exits cleanly
        assert follow.wait(timeout=60) == 0
    finally:
        follow.kill()


def _csr_pem(cn: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode()


def test_certificate_signing_requests_are_approved_signed_and_denied(api: KubeAPI) -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    kc = api.kubeconfig
    for name in ("alice", "mallory"):
        csr = f"""\
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {{name: {name}}}
spec:
  request: {_csr_pem(name)}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
  username: someone-else
"""
        kubectl(kc, "apply", "-f", "-", input=csr)
    header, row = _table(kc, "csr", "alice")
    assert header == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    # the requester is whoever sent it, not what the body claims
    assert row[2:] == ["kubernetes.io/kube-apiserver-client", "kubernetes-admin", "24h", "Pending"]
    # kubectl certificate approve|deny PUT the object to the approval subresource as protobuf
    kubectl(kc, "certificate", "approve", "alice")
    kubectl(kc, "certificate", "deny", "mallory")
    issued = eventually(lambda: kubectl_json(kc, "get", "csr", "alice")["status"].get("certificate"))
    cert = x509.load_pem_x509_certificates(base64.b64decode(issued))[0]
    assert cert.subject.rfc4514_string() == "CN=alice" and cert.issuer.rfc4514_string() == "CN=kubernetes"
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert _table(kc, "csr", "alice")[1][-1] == "Approved,Issued"
    denied = kubectl_json(kc, "get", "csr", "mallory")
    assert _table(kc, "csr", "mallory")[1][-1] == "Denied" and "certificate" not in denied["status"]
    assert denied["spec"]["usages"] == ["client auth"]  # approval changes the conditions only


def test_a_default_storage_class_exists(api: KubeAPI) -> None:
    header, row = _table(api.kubeconfig, "storageclass")
    assert header[:5] == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION"]
    assert row[:3] == ["standard", "(default)", "rancher.io/local-path"]
