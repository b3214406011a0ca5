"""OpenAPI v3 and v2 from the schema data: kubectl explain, CRD schemas, list extensions."""

from __future__ import annotations

import httpx

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import kubectl

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab}
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
            description: What the cron job runs.
            properties:
              cronSpec: {type: string, description: "When it runs, in cron syntax."}
"""


def test_kubectl_explain_reads_the_served_schemas(kubeapi: KubeAPI, http: httpx.Client) -> None:
    out = kubectl(kubeapi.kubeconfig, "explain", "deployment.spec").stdout
    assert "KIND:       Deployment" in out and "DeploymentSpec is the specification" in out
    assert "replicas\t<integer>" in out
    ports = kubectl(kubeapi.kubeconfig, "explain", "pods.spec.containers.ports").stdout
    assert "<[]ContainerPort>" in ports
    kubectl(kubeapi.kubeconfig, "apply", "-f", "-", input=CRD)
    crd = kubectl(kubeapi.kubeconfig, "explain", "crontab.spec.cronSpec").stdout
    assert "When it runs, in cron syntax." in crd
    doc = http.get("/openapi/v3/api/v1").json()["components"]["schemas"]
    ports_schema = doc["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports_schema["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"]
    assert doc["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    v2 = http.get("/openapi/v2", headers={"Accept": "application/json"}).json()
    spec = v2["definitions"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]
    assert spec["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    assert "com.example.stable.v1.CronTab" in v2["definitions"]
