"""What the pages and the API show, computed from the read model's memory (never from the API server).

Each function is cached per model version, so N browsers asking for the same page after one
change cost one computation.
"""

from __future__ import annotations

import difflib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML

from kumo.console.model import ReadModel, ReleaseKey, parse_cpu, parse_memory
from kumo.console.schema import (
    AppDetail,
    AppSummary,
    Certificate,
    DnsRecord,
    DnsSource,
    DnsState,
    DnsView,
    EndpointView,
    EventView,
    Health,
    LastDeploy,
    NodeList,
    NodeView,
    PodView,
    Rollout,
    Workload,
)
from kumo.deploy import (
    RELEASE_SECRET_TYPE,
    Revision,
    decode_revision,
    deployment_failure,
    newest_replicaset,
    pods_of,
)
from kumo.kube import Obj, readiness

ACM_ANNOTATIONS = (
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "alb.ingress.kubernetes.io/certificate-arn",
)
EVENTS_SHOWN = 30


# -- release records ---------------------------------------------------------------------------

_decoded: dict[tuple[str, str], Revision] = {}


def _revision(secret: Obj) -> Revision:
    """Decode a release Secret once per resourceVersion (its manifests are gzip'd JSON)."""
    metadata = secret.get("metadata") or {}
    key = (str(metadata.get("uid") or metadata.get("name")), str(metadata.get("resourceVersion") or ""))
    hit = _decoded.get(key)
    if hit is None:
        if len(_decoded) > 4096:
            _decoded.clear()
        hit = _decoded[key] = decode_revision(secret)
    return hit


def _last_deploy(revision: Revision) -> LastDeploy:
    return LastDeploy(
        revision=revision.number,
        status=revision.status,
        deployed_by=revision.deployed_by,
        deployed_at=revision.deployed_at,
        description=revision.description,
        failure=revision.failure,
        images=revision.images,
    )


@dataclass
class ReleaseObjects:
    """Everything of one release in the read model, grouped once per model version."""

    key: ReleaseKey
    revisions: list[Revision] = field(default_factory=list)
    deployments: list[Obj] = field(default_factory=list)
    replicasets: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)
    services: list[Obj] = field(default_factory=list)
    ingresses: list[Obj] = field(default_factory=list)
    gateways: list[Obj] = field(default_factory=list)


_KIND_ATTR = {
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "Pod": "pods",
    "Service": "services",
    "Ingress": "ingresses",
    "Gateway": "gateways",
}


def releases(model: ReadModel) -> dict[ReleaseKey, ReleaseObjects]:
    """Every release with history, from the model's per-release index (no scan of the cluster)."""

    def compute() -> dict[ReleaseKey, ReleaseObjects]:
        out: dict[ReleaseKey, ReleaseObjects] = {}
        for key, kinds in model.index.items():
            records = [
                _revision(s) for s in kinds.get("Secret", {}).values() if s.get("type") == RELEASE_SECRET_TYPE
            ]
            if not records:
                continue
            rel = ReleaseObjects(key, sorted(records, key=lambda r: r.number))
            for kind, attr in _KIND_ATTR.items():
                getattr(rel, attr).extend(kinds.get(kind, {}).values())
            out[key] = rel
        return out

    result: dict[ReleaseKey, ReleaseObjects] = model.cached("releases", compute)
    return result


# -- endpoints, URLs and DNS -------------------------------------------------------------------


def _hostnames_of(obj: Obj) -> list[str]:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    names: list[str] = []
    for key, value in annotations.items():
        if key.endswith("kubernetes.io/hostname"):
            names += [n.strip().rstrip(".").lower() for n in str(value).split(",") if n.strip()]
    if obj.get("kind") == "Ingress":
        for rule in (obj.get("spec") or {}).get("rules") or []:
            host = rule.get("host")
            if host and host.lower() not in names:
                names.append(host.lower())
    return names


def _url(obj: Obj, hostname: str) -> str:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Ingress":
        secure = any(hostname in (t.get("hosts") or []) for t in spec.get("tls") or [])
        return f"{'https' if secure else 'http'}://{hostname}"
    ports = [int(p.get("port") or 0) for p in spec.get("ports") or []]
    if 443 in ports:
        return f"https://{hostname}"
    if not ports or 80 in ports:
        return f"http://{hostname}"
    return f"http://{hostname}:{ports[0]}"


def endpoints(rel: ReleaseObjects) -> list[EndpointView]:
    routed = bool(rel.ingresses or rel.gateways)
    out: list[EndpointView] = []
    for obj in [*rel.services, *rel.ingresses, *rel.gateways]:
        kind = str(obj.get("kind"))
        spec = obj.get("spec") or {}
        type_ = str(spec.get("type", "ClusterIP")) if kind == "Service" else kind
        if kind == "Service" and type_ != "LoadBalancer" and (routed or not _hostnames_of(obj)):
            continue  # a backend, not an endpoint of its own
        address = readiness.lb_address(obj)
        if kind == "Gateway":
            address = next((a.get("value") for a in (obj.get("status") or {}).get("addresses") or []), None)
        hostnames = _hostnames_of(obj)
        out.append(
            EndpointView(
                kind=kind,
                name=str(obj["metadata"]["name"]),
                type=type_,
                address=address,
                hostnames=hostnames,
                url=_url(obj, hostnames[0]) if hostnames else None,
            )
        )
    return out


def dns_view(model: ReadModel) -> DnsView:
    def compute() -> DnsView:
        sources: list[DnsSource] = []
        records: list[DnsRecord] = []
        conflicts = errors = 0
        # With leader election only the leader's view is current; a standby's is not shown.
        leaders = {f.url for f in model.dns if (f.document or {}).get("leader")}
        for fetch in model.dns:
            doc = fetch.document or {}
            sources.append(
                DnsSource(
                    url=fetch.url,
                    ok=fetch.error is None and fetch.document is not None,
                    error=fetch.error,
                    fetched_at=fetch.fetched_at,
                    owner_id=doc.get("ownerId"),
                    leader=doc.get("leader"),
                    healthy=doc.get("healthy"),
                )
            )
            for entry in doc.get("names") or [] if not leaders or fetch.url in leaders else []:
                record = DnsRecord(
                    name=str(entry.get("name")),
                    desired=[_rr(r) for r in entry.get("desired") or []],
                    records=[_rr(r) for r in entry.get("records") or []],
                    owners=[str(o) for o in entry.get("owners") or []],
                    resources=[str(r) for r in entry.get("resources") or []],
                    owned=bool(entry.get("owned")),
                    matches=bool(entry.get("matches")),
                    conflict=bool(entry.get("conflict")),
                    error=entry.get("error"),
                    source=fetch.url,
                )
                conflicts += record.conflict
                errors += record.error is not None
                records.append(record)
        records.sort(key=lambda r: r.name)
        return DnsView(
            configured=bool(model.dns or model.dns_pods),
            sources=sources,
            records=records,
            conflicts=conflicts,
            errors=errors,
        )

    result: DnsView = model.cached("dns", compute)
    return result


def _rr(record: dict[str, Any]) -> str:
    return f"{record.get('type')} {', '.join(str(t) for t in record.get('targets') or [])}"


def _dns_index(model: ReadModel) -> dict[str, list[DnsRecord]]:
    def compute() -> dict[str, list[DnsRecord]]:
        index: dict[str, list[DnsRecord]] = defaultdict(list)
        for record in dns_view(model).records:
            index[record.name].append(record)
        return index

    result: dict[str, list[DnsRecord]] = model.cached("dns-index", compute)
    return result


def _dns_state(model: ReadModel, hostnames: list[str]) -> tuple[DnsState, list[DnsRecord]]:
    if not hostnames:
        return DnsState(state="unknown", detail="no hostnames"), []
    if not model.dns and not model.dns_pods:
        return DnsState(state="unknown", detail="no DNS controller status configured"), []
    index = _dns_index(model)
    found = [r for name in hostnames for r in index.get(name, [])]
    problems = [f"{r.name}: {r.error}" for r in found if r.error]
    problems += [f"{r.name}: owned by {', '.join(r.owners)}" for r in found if r.conflict]
    if problems:
        return DnsState(state="error", detail="; ".join(problems)), found
    missing = [n for n in hostnames if not any(r.name == n and r.matches and r.records for r in found)]
    if missing:
        if not any(f.document for f in model.dns):
            return DnsState(state="unknown", detail="the DNS controller status cannot be read"), found
        return DnsState(state="pending", detail=f"not published yet: {', '.join(missing)}"), found
    return DnsState(state="ok", detail=", ".join(f"{r.name} {' '.join(r.records)}" for r in found)), found


# -- workloads ---------------------------------------------------------------------------------


def _owned_by(obj: Obj, owner: Obj) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    return any(o.get("uid") == uid for o in (obj.get("metadata") or {}).get("ownerReferences") or [])


def _live(pod: Obj) -> bool:
    return not (pod.get("metadata") or {}).get("deletionTimestamp")


def _ready(pod: Obj) -> bool:
    return (
        readiness.status(pod)[0] == readiness.CURRENT and (pod.get("status") or {}).get("phase") == "Running"
    )


def _failure_text(failure: Any) -> str:
    return f"{failure.reason}: {failure.message}"


def workload(deployment: Obj, rel: ReleaseObjects) -> Workload:
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    owned = [rs for rs in rel.replicasets if _owned_by(rs, deployment)]
    current = newest_replicaset(deployment, owned)
    failure = deployment_failure(deployment, owned, rel.pods)
    rollouts: list[Rollout] = []
    for rs in owned:
        rs_spec = rs.get("spec") or {}
        rs_pods = [p for p in pods_of(rs, rel.pods) if _live(p)]
        if int(rs_spec.get("replicas") or 0) == 0 and not rs_pods and rs is not current:
            continue
        revision = str(
            ((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")) or ""
        )
        problems = [readiness.pod_problem(p) for p in rs_pods]
        problem = next((p for p in problems if p), None)
        rollouts.append(
            Rollout(
                replica_set=str(rs["metadata"]["name"]),
                revision=int(revision) if revision.isdigit() else None,
                current=rs is current,
                images=[
                    str(c.get("image"))
                    for c in ((rs_spec.get("template") or {}).get("spec") or {}).get("containers") or []
                ],
                desired=int(rs_spec.get("replicas") or 0),
                ready=int((rs.get("status") or {}).get("readyReplicas") or 0),
                failure=f"{problem[0]}: {problem[1]}" if problem else None,
            )
        )
    rollouts.sort(key=lambda r: r.revision or 0, reverse=True)
    pods = [p for rs in owned for p in pods_of(rs, rel.pods) if _live(p)]
    state, message = readiness.status(deployment)
    return Workload(
        kind="Deployment",
        name=str(deployment["metadata"]["name"]),
        desired=int(spec.get("replicas", 1)),
        running=int(status.get("readyReplicas") or 0),
        pending=sum(1 for p in pods if not _ready(p)),
        state=state,
        message=message,
        failing=_failure_text(failure) if failure else None,
        rollouts=rollouts,
    )


def _health(workloads: list[Workload]) -> Health:
    if not workloads:
        return "unknown"
    if any(w.failing for w in workloads):
        return "failing"
    if all(w.state == readiness.CURRENT and w.running >= w.desired for w in workloads):
        return "healthy"
    return "progressing"


def _summary(model: ReadModel, rel: ReleaseObjects) -> tuple[AppSummary, list[Workload], list[EndpointView]]:
    latest = rel.revisions[-1]
    app = str(latest.spec.get("app") or rel.key[1])
    workloads = [workload(d, rel) for d in rel.deployments]
    eps = endpoints(rel)
    hostnames = [h for e in eps for h in e.hostnames]
    dns, _ = _dns_state(model, hostnames)
    url = next((e.url for e in eps if e.url), None)
    failing = "; ".join(f"{w.name}: {w.failing}" for w in workloads if w.failing) or None
    summary = AppSummary(
        app=app,
        env=str(latest.env or "default"),
        namespace=rel.key[0],
        release=rel.key[1],
        desired=sum(w.desired for w in workloads),
        running=sum(w.running for w in workloads),
        pending=sum(w.pending for w in workloads),
        health=_health(workloads),
        url=url,
        failing=failing,
        dns=dns,
        last_deploy=_last_deploy(latest),
    )
    return summary, workloads, eps


def _summary_memo(
    model: ReadModel, rel: ReleaseObjects
) -> tuple[AppSummary, list[Workload], list[EndpointView]]:
    """``_summary``, recomputed only when the release or the DNS view changed since last time."""
    stamp = (model.stamps.get(rel.key, 0), model.dns_version)
    hit = model.memo.get(("summary", rel.key))
    if hit is not None and hit[0] == stamp:
        return hit[1]  # type: ignore[no-any-return]
    value = _summary(model, rel)
    model.memo[("summary", rel.key)] = (stamp, value)
    return value


def overview(model: ReadModel) -> list[AppSummary]:
    def compute() -> list[AppSummary]:
        rels = releases(model)
        for key in [k for k in model.memo if k[0] == "summary" and k[1] not in rels]:
            del model.memo[key]
        return [_summary_memo(model, rels[key])[0] for key in sorted(rels)]

    result: list[AppSummary] = model.cached("overview", compute)
    return result


# -- the app page ------------------------------------------------------------------------------


def _pod_view(model: ReadModel, pod: Obj, workload_name: str) -> PodView:
    metadata = pod["metadata"]
    status = pod.get("status") or {}
    problem = readiness.pod_problem(pod)
    usage = model.pod_usage.get((str(metadata.get("namespace")), str(metadata["name"])))
    return PodView(
        name=str(metadata["name"]),
        workload=workload_name,
        phase=str(status.get("phase") or "Pending"),
        ready=_ready(pod),
        restarts=sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or []),
        node=(pod.get("spec") or {}).get("nodeName"),
        created=metadata.get("creationTimestamp"),
        problem=f"{problem[0]}: {problem[1]}" if problem else None,
        cpu_millicores=usage.cpu[-1] if usage and usage.cpu else None,
        memory_bytes=usage.memory[-1] if usage and usage.memory else None,
        cpu_history=list(usage.cpu) if usage else [],
        memory_history=list(usage.memory) if usage else [],
    )


def _certificates(model: ReadModel, rel: ReleaseObjects) -> list[Certificate]:
    out: list[Certificate] = []
    namespace = rel.key[0]
    by_secret = {
        str((c.get("spec") or {}).get("secretName")): c
        for c in model.items("Certificate")
        if (c.get("metadata") or {}).get("namespace") == namespace
    }
    for obj in [*rel.services, *rel.ingresses]:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        for key in ACM_ANNOTATIONS:
            for arn in filter(None, (a.strip() for a in str(annotations.get(key) or "").split(","))):
                out.append(
                    Certificate(
                        source="acm",
                        name=arn,
                        hostnames=_hostnames_of(obj),
                        not_after=None,
                        ready=None,
                        detail="ACM certificate; its expiry is in ACM, which the console does not call",
                    )
                )
        for tls in (obj.get("spec") or {}).get("tls") or [] if obj.get("kind") == "Ingress" else []:
            secret = str(tls.get("secretName") or "")
            cert = by_secret.get(secret)
            if cert is not None:
                cond = readiness.conditions(cert).get("Ready") or {}
                out.append(
                    Certificate(
                        source="cert-manager",
                        name=str(cert["metadata"]["name"]),
                        hostnames=[
                            str(h) for h in (cert.get("spec") or {}).get("dnsNames") or tls.get("hosts") or []
                        ],
                        not_after=(cert.get("status") or {}).get("notAfter"),
                        ready=cond.get("status") == "True" if cond else None,
                        detail=str(cond.get("message") or ""),
                    )
                )
            else:
                out.append(
                    Certificate(
                        source="secret",
                        name=secret,
                        hostnames=[str(h) for h in tls.get("hosts") or []],
                        not_after=None,
                        ready=None,
                        detail="TLS Secret; the console reads no Secret but kumo's release records",
                    )
                )
    return out


def _events(model: ReadModel, rel: ReleaseObjects) -> list[EventView]:
    names = {
        (str(o.get("kind")), str(o["metadata"]["name"]))
        for o in [*rel.deployments, *rel.replicasets, *rel.pods, *rel.services, *rel.ingresses, *rel.gateways]
    }
    namespace = rel.key[0]
    mine = [
        e
        for e in _events_in(model, namespace)
        if (
            str((e.get("involvedObject") or {}).get("kind")),
            str((e.get("involvedObject") or {}).get("name")),
        )
        in names
    ]

    def order(event: Obj) -> tuple[str, int]:
        version = str((event.get("metadata") or {}).get("resourceVersion") or "0")
        return _when(event), int(version) if version.isdigit() else 0

    mine.sort(key=order)
    return [
        EventView(
            type=str(e.get("type") or "Normal"),
            reason=str(e.get("reason") or ""),
            object=f"{str((e.get('involvedObject') or {}).get('kind', '')).lower()}/"
            f"{(e.get('involvedObject') or {}).get('name', '')}",
            message=str(e.get("message") or ""),
            count=int(e.get("count") or 1),
            last=_when(e),
        )
        for e in mine[-EVENTS_SHOWN:]
    ][::-1]


def _when(event: Obj) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def _events_in(model: ReadModel, namespace: str) -> list[Obj]:
    return list(model.events_by_ns.get(namespace, {}).values())


def app_detail(model: ReadModel, key: ReleaseKey) -> AppDetail | None:
    def compute() -> AppDetail | None:
        rel = releases(model).get(key)
        if rel is None:
            return None
        summary, workloads, eps = _summary_memo(model, rel)
        _, records = _dns_state(model, [h for e in eps for h in e.hostnames])
        pods: list[PodView] = []
        for deployment in rel.deployments:
            owned = [rs for rs in rel.replicasets if _owned_by(rs, deployment)]
            for rs in owned:
                pods += [
                    _pod_view(model, p, str(deployment["metadata"]["name"]))
                    for p in pods_of(rs, rel.pods)
                    if _live(p)
                ]
        pods.sort(key=lambda p: p.name)
        return AppDetail(
            **summary.model_dump(),
            workloads=workloads,
            pods=pods,
            endpoints=eps,
            dns_records=records,
            certificates=_certificates(model, rel),
            events=_events(model, rel),
            history=[_last_deploy(r) for r in reversed(rel.revisions)],
        )

    result: AppDetail | None = model.cached(("app", key), compute)
    return result


def release_pods(model: ReadModel, key: ReleaseKey) -> set[str]:
    rel = releases(model).get(key)
    return {str(p["metadata"]["name"]) for p in rel.pods} if rel else set()


def revision_diff(model: ReadModel, key: ReleaseKey, old: int, new: int) -> list[str] | None:
    """Unified diff of two revisions' manifests (YAML), or None when either is unknown."""
    rel = releases(model).get(key)
    if rel is None:
        return None
    by_number = {r.number: r for r in rel.revisions}
    if old not in by_number or new not in by_number:
        return None
    return list(
        difflib.unified_diff(
            _manifest_text(by_number[old]),
            _manifest_text(by_number[new]),
            fromfile=f"revision {old}",
            tofile=f"revision {new}",
            lineterm="",
        )
    )


def _manifest_text(revision: Revision) -> list[str]:
    def order(obj: Obj) -> tuple[str, str, str]:
        metadata = obj.get("metadata") or {}
        return str(obj.get("kind")), str(metadata.get("namespace") or ""), str(metadata.get("name"))

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump_all(sorted(revision.manifests, key=order), stream)
    return stream.getvalue().splitlines()


# -- nodes -------------------------------------------------------------------------------------


def nodes(model: ReadModel) -> NodeList:
    def compute() -> NodeList:
        per_node: dict[str, int] = defaultdict(int)
        for pod in model.items("Pod"):
            node = (pod.get("spec") or {}).get("nodeName")
            if node and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                per_node[str(node)] += 1
        out: list[NodeView] = []
        for node in sorted(model.items("Node"), key=lambda n: str(n["metadata"]["name"])):
            name = str(node["metadata"]["name"])
            status = node.get("status") or {}
            capacity = status.get("capacity") or {}
            allocatable = status.get("allocatable") or {}
            usage = model.node_usage.get(name)
            labels = node["metadata"].get("labels") or {}
            out.append(
                NodeView(
                    name=name,
                    ready=(readiness.conditions(node).get("Ready") or {}).get("status") == "True",
                    roles=sorted(
                        k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")
                    ),
                    pods=per_node.get(name, 0),
                    cpu_capacity_millicores=parse_cpu(str(capacity.get("cpu", "0"))),
                    cpu_allocatable_millicores=parse_cpu(str(allocatable.get("cpu", "0"))),
                    cpu_usage_millicores=round(usage[0], 1) if usage else None,
                    memory_capacity_bytes=parse_memory(str(capacity.get("memory", "0"))),
                    memory_allocatable_bytes=parse_memory(str(allocatable.get("memory", "0"))),
                    memory_usage_bytes=usage[1] if usage else None,
                )
            )
        return NodeList(nodes=out)

    result: NodeList = model.cached("nodes", compute)
    return result
