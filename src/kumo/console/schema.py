"""The console's JSON shapes, one pydantic model per concept.

The same models feed the HTML templates and the JSON API, and the OpenAPI document is generated
from them, so the API cannot drift from its description.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Health = Literal["healthy", "progressing", "failing", "unknown"]
DnsStateName = Literal["ok", "pending", "error", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LastDeploy(_Model):
    revision: int
    status: str
    deployed_by: str
    deployed_at: str
    description: str = ""
    failure: str | None = None
    images: dict[str, str] = Field(default_factory=dict)


class DnsState(_Model):
    state: DnsStateName
    detail: str


class AppSummary(_Model):
    """One kumo release (app x environment): the overview's row."""

    app: str
    env: str
    namespace: str
    release: str
    desired: int
    running: int
    pending: int
    health: Health
    url: str | None
    failing: str | None = Field(description="why the current rollout fails, when it does")
    dns: DnsState
    last_deploy: LastDeploy | None


class Rollout(_Model):
    replica_set: str
    revision: int | None
    current: bool
    images: list[str]
    desired: int
    ready: int
    failure: str | None


class PodView(_Model):
    name: str
    workload: str
    phase: str
    ready: bool
    restarts: int
    node: str | None
    created: str | None
    problem: str | None
    cpu_millicores: float | None
    memory_bytes: int | None
    cpu_history: list[float] = Field(description="CPU samples (millicores), oldest first")
    memory_history: list[int] = Field(description="memory samples (bytes), oldest first")


class Workload(_Model):
    kind: str
    name: str
    desired: int
    running: int
    pending: int
    state: str
    message: str
    failing: str | None
    rollouts: list[Rollout]


class EndpointView(_Model):
    kind: str
    name: str
    type: str
    address: str | None
    hostnames: list[str]
    url: str | None


class DnsRecord(_Model):
    """One name as the DNS controller sees it."""

    name: str
    desired: list[str] = Field(description='"TYPE target" of what the cluster wants')
    records: list[str] = Field(description='"TYPE target" of what the provider holds')
    owners: list[str]
    resources: list[str]
    owned: bool
    matches: bool
    conflict: bool
    error: str | None
    source: str = Field(description="the DNS controller status URL this came from")


class Certificate(_Model):
    source: Literal["acm", "cert-manager", "secret"]
    name: str
    hostnames: list[str]
    not_after: str | None
    ready: bool | None
    detail: str


class EventView(_Model):
    type: str
    reason: str
    object: str
    message: str
    count: int
    last: str


class AppDetail(AppSummary):
    workloads: list[Workload]
    pods: list[PodView]
    endpoints: list[EndpointView]
    dns_records: list[DnsRecord]
    certificates: list[Certificate]
    events: list[EventView]
    history: list[LastDeploy]


class AppList(_Model):
    synced: bool
    apps: list[AppSummary]


class RevisionDiff(_Model):
    namespace: str
    release: str
    from_revision: int
    to_revision: int
    diff: list[str] = Field(description="unified diff lines of the two revisions' manifests")


class PodLog(_Model):
    namespace: str
    pod: str
    container: str | None
    lines: list[str]


class NodeView(_Model):
    name: str
    ready: bool
    roles: list[str]
    pods: int
    cpu_capacity_millicores: float
    cpu_allocatable_millicores: float
    cpu_usage_millicores: float | None
    memory_capacity_bytes: int
    memory_allocatable_bytes: int
    memory_usage_bytes: int | None


class NodeList(_Model):
    nodes: list[NodeView]


class DnsSource(_Model):
    url: str
    ok: bool
    error: str | None
    fetched_at: str | None
    owner_id: str | None
    leader: bool | None
    healthy: bool | None


class DnsView(_Model):
    configured: bool
    sources: list[DnsSource]
    records: list[DnsRecord]
    conflicts: int
    errors: int


class Problem(_Model):
    error: str


MODELS: list[type[BaseModel]] = [AppList, AppDetail, RevisionDiff, PodLog, NodeList, DnsView, Problem]


def _json_response(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
    }


def _problem(description: str) -> dict[str, Any]:
    return _json_response(Problem, description)


def _release_params() -> list[dict[str, Any]]:
    return [
        {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "release", "in": "path", "required": True, "schema": {"type": "string"}},
    ]


def openapi_document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of /api, with schemas generated from the models above."""
    from pydantic.json_schema import models_json_schema

    _, defs = models_json_schema(
        [(m, "serialization") for m in MODELS], ref_template="#/components/schemas/{model}"
    )
    unauthorized = _problem("no token, or a wrong one")
    not_found = _problem("no such release, revision or pod")
    ops: dict[str, Any] = {
        "/api/apps": {
            "get": {
                "operationId": "listApps",
                "summary": "every kumo release in the cluster",
                "responses": {"200": _json_response(AppList, "the releases"), "401": unauthorized},
            }
        },
        "/api/apps/{namespace}/{release}": {
            "get": {
                "operationId": "getApp",
                "summary": "one release: workloads, rollouts, pods, endpoints, DNS, certificates, events",
                "parameters": _release_params(),
                "responses": {
                    "200": _json_response(AppDetail, "the release"),
                    "401": unauthorized,
                    "404": not_found,
                },
            }
        },
        "/api/apps/{namespace}/{release}/diff": {
            "get": {
                "operationId": "diffRevisions",
                "summary": "the manifests of two revisions, as a unified diff",
                "parameters": [
                    *_release_params(),
                    {"name": "from", "in": "query", "required": True, "schema": {"type": "integer"}},
                    {"name": "to", "in": "query", "required": True, "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": _json_response(RevisionDiff, "the diff"),
                    "400": _problem("from or to is not a revision number"),
                    "401": unauthorized,
                    "404": not_found,
                },
            }
        },
        "/api/apps/{namespace}/{release}/pods/{pod}/log": {
            "get": {
                "operationId": "podLog",
                "summary": "the last lines of a Pod's log (Pods of this release only)",
                "parameters": [
                    *_release_params(),
                    {"name": "pod", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "tail",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": _json_response(PodLog, "the log lines"),
                    "400": _problem("tail is not a number from 1 to 1000"),
                    "401": unauthorized,
                    "404": not_found,
                    "502": _problem("the Kubernetes API did not give the log"),
                },
            }
        },
        "/api/nodes": {
            "get": {
                "operationId": "listNodes",
                "summary": "capacity, allocatable and usage of every Node",
                "responses": {"200": _json_response(NodeList, "the nodes"), "401": unauthorized},
            }
        },
        "/api/dns": {
            "get": {
                "operationId": "dnsRecords",
                "summary": "every record the DNS controller manages, with conflicts and errors",
                "responses": {"200": _json_response(DnsView, "the records"), "401": unauthorized},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "kumo console", "version": version},
        "paths": ops,
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
    }
