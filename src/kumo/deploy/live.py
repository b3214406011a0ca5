"""Read-only views of a release: `kumo diff` and `kumo status`. Neither takes the lock or writes."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from kumo.deploy.addons import with_live_stamp
from kumo.deploy.diff import ObjectDiff, diff_object
from kumo.deploy.dnscheck import resolve
from kumo.deploy.engine import DeployOptions, open_client
from kumo.deploy.objects import FIELD_MANAGER, Obj, Ref
from kumo.deploy.releases import ReleaseStore
from kumo.deploy.rendering import Rendered
from kumo.deploy.wait import event_time, in_time_order, newest_replicaset, pods_of
from kumo.errors import ClusterError
from kumo.kube import KubeClient, readiness
from kumo.kube.errors import ApiError
from kumo.kube.timefmt import parse_time
from kumo.render import find_placeholders

#: Objects compared at once (one GET and one dry-run apply each).
DIFF_CONCURRENCY = 8
#: On a Deployment whose work a process outside the cluster does (the sandbox's DNS controller):
#: what runs it instead of Pods.
RUNS_AS_ANNOTATION = "kumo.dev/runs-as"


@dataclass
class ReleaseDiff:
    release: str
    namespace: str
    objects: list[ObjectDiff] = field(default_factory=list)
    #: Placeholders only the cloud step fills; objects holding one are ``skipped``, not compared.
    missing: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.action not in ("unchanged", "skipped") for o in self.objects)

    @property
    def complete(self) -> bool:
        return not any(o.action == "skipped" for o in self.objects)

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "namespace": self.namespace,
            "changed": self.changed,
            "complete": self.complete,
            "missing": self.missing,
            "objects": [o.as_dict() for o in self.objects],
        }


async def diff_release(rendered: Rendered, options: DeployOptions) -> ReleaseDiff:
    """What `kumo up` would change now: creates, field updates (drift included) and prunes.

    Each existing object is compared with the server's answer to a dry-run of kumo's apply, so
    lists merge as the API server merges them (by their schema), never by a key guessed here.
    """
    result = ReleaseDiff(rendered.release, rendered.namespace, missing=list(rendered.missing))
    async with await open_client(rendered, options) as client:
        limit = asyncio.Semaphore(DIFF_CONCURRENCY)

        async def compare(obj: Obj) -> ObjectDiff:
            ref = Ref.of(obj)
            if rendered.missing and find_placeholders([obj]):
                return ObjectDiff(ref, "skipped")  # what it would be is not known yet
            async with limit:
                live = await client.get(ref.api_version, ref.kind, ref.name, ref.namespace or None)
                if live is None:
                    return ObjectDiff(ref, "create")
                obj = with_live_stamp(obj, live)  # the add-ons' stamp is bookkeeping, not content
                try:
                    after = await client.apply(obj, FIELD_MANAGER, force=True, dry_run=True)
                except ApiError as exc:
                    raise ClusterError(
                        f"{ref}: the server refused kumo's change (dry-run): {exc.message}", exc.hint
                    ) from None
            changes = diff_object(after, live)
            return ObjectDiff(ref, "update" if changes else "unchanged", changes)

        result.objects = list(await asyncio.gather(*(compare(o) for o in rendered.addons + rendered.objects)))
        if await client.get("v1", "Namespace", rendered.namespace) is None:
            return result
        history = await ReleaseStore(client, rendered.release, rendered.namespace).revisions()
        deployed = [r.number for r in history if r.status == "deployed"]
        since = deployed[-1] if deployed else 0
        rendered_refs = {Ref.of(o) for o in rendered.objects + rendered.addons}
        seen: set[Ref] = set()
        for revision in history:
            if revision.number < since:
                continue
            for obj in revision.manifests:
                ref = Ref.of(obj)
                if ref in rendered_refs or ref in seen:
                    continue
                seen.add(ref)
                if await client.get(ref.api_version, ref.kind, ref.name, ref.namespace or None) is not None:
                    result.objects.append(ObjectDiff(ref, "prune"))
    return result


def _age(stamp: str | None) -> str | None:
    moment = parse_time(stamp)
    return moment.isoformat() if moment else None


def _restarts(pod: Obj) -> int:
    return sum(
        int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or []
    )


def _pod_view(pod: Obj) -> dict[str, Any]:
    state, message = readiness.status(pod)
    problem = readiness.pod_problem(pod)
    status = pod.get("status") or {}
    images = [c.get("image") for c in (pod.get("spec") or {}).get("containers") or []]
    return {
        "name": pod["metadata"]["name"],
        "phase": status.get("phase", "Pending"),
        "ready": state == readiness.CURRENT,
        "terminating": bool(pod["metadata"].get("deletionTimestamp")),
        "restarts": _restarts(pod),
        "problem": problem[0] if problem else None,
        "message": message,
        "images": images,
        "started": _age(status.get("startTime") or pod["metadata"].get("creationTimestamp")),
    }


def _deployment_view(deployment: Obj, replicasets: list[Obj], pods: list[Obj]) -> dict[str, Any]:
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    desired = int(spec.get("replicas", 1))
    ready = int(status.get("readyReplicas") or 0)
    current = newest_replicaset(deployment, replicasets)
    owned = [
        rs
        for rs in replicasets
        if any(
            o.get("uid") == deployment["metadata"].get("uid")
            for o in rs["metadata"].get("ownerReferences") or []
        )
    ]
    rollouts = []
    my_pods: list[Obj] = []
    for rs in owned:
        rs_pods = pods_of(rs, pods)
        my_pods.extend(rs_pods)
        rs_status = rs.get("status") or {}
        rs_spec = rs.get("spec") or {}
        revision = (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
        if int(rs_spec.get("replicas") or 0) == 0 and not rs_pods and rs is not current:
            continue
        rollouts.append(
            {
                "replicaSet": rs["metadata"]["name"],
                "revision": int(revision) if revision and str(revision).isdigit() else None,
                "current": rs is current,
                "images": [
                    c.get("image")
                    for c in ((rs_spec.get("template") or {}).get("spec") or {}).get("containers") or []
                ],
                "desired": int(rs_spec.get("replicas") or 0),
                "ready": int(rs_status.get("readyReplicas") or 0),
            }
        )
    rollouts.sort(key=lambda r: r["revision"] or 0, reverse=True)
    state, message = readiness.status(deployment)
    pod_views = [_pod_view(p) for p in my_pods]
    return {
        "name": deployment["metadata"]["name"],
        "state": state,
        "message": message,
        "desired": desired,
        "running": ready,
        # Starting, not stopping: an old Pod still terminating after a rollout is not pending (as
        # in the console's overview).
        "pending": len([p for p in pod_views if not p["ready"] and not p["terminating"]]),
        "rollouts": rollouts,
        "pods": pod_views,
    }


def _flag(args: list[Any], name: str) -> str | None:
    for arg in args:
        if isinstance(arg, str) and arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


async def _dns_controller_view(client: KubeClient, addons: list[Obj]) -> dict[str, Any] | None:
    """Who really runs the DNS controller: the holder of its leader Lease (a Pod's name in a
    cluster, ``user@host/pid`` for a process elsewhere, such as the sandbox's), and its Deployment."""
    for obj in addons:
        if obj.get("kind") != "Deployment":
            continue
        containers = obj["spec"]["template"]["spec"].get("containers") or []
        args = next((c.get("args") or [] for c in containers), [])
        if args[:2] != ["dns", "run"] or "--leader-elect" not in args:
            continue
        namespace = obj["metadata"]["namespace"]
        lease_name = _flag(args, "--leader-election-id") or obj["metadata"]["name"]
        live = await client.get("apps/v1", "Deployment", obj["metadata"]["name"], namespace)
        lease = None
        with contextlib.suppress(ApiError):
            lease = await client.get("coordination.k8s.io/v1", "Lease", lease_name, namespace)
        lease_spec = (lease or {}).get("spec") or {}
        live_spec = (live or {}).get("spec") or {}
        annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
        return {
            "deployment": f"{namespace}/{obj['metadata']['name']}",
            "replicas": live_spec.get("replicas"),
            "readyReplicas": ((live or {}).get("status") or {}).get("readyReplicas", 0),
            "lease": f"{namespace}/{lease_name}",
            "leader": lease_spec.get("holderIdentity"),
            "renewed": lease_spec.get("renewTime"),
            "runsAs": annotations.get(RUNS_AS_ANNOTATION),
        }
    return None


async def release_status(rendered: Rendered, options: DeployOptions) -> dict[str, Any]:
    """An operator's first look: workloads, rollouts, pods, endpoints, DNS, events, revision."""
    namespace = rendered.namespace
    async with await open_client(rendered, options) as client:
        view: dict[str, Any] = {
            "release": rendered.release,
            "namespace": namespace,
            "context": client.context,
            "server": client.server,
            "installed": False,
        }
        if await client.get("v1", "Namespace", namespace) is None:
            return view
        history = await ReleaseStore(client, rendered.release, namespace).revisions()
        deployed = [r for r in history if r.status == "deployed"]
        view["installed"] = bool(history)
        view["revision"] = deployed[-1].summary() if deployed else None
        view["latest"] = history[-1].summary() if history else None
        deployments = await client.list("apps/v1", "Deployment", namespace)
        replicasets = await client.list("apps/v1", "ReplicaSet", namespace)
        pods = await client.list("v1", "Pod", namespace)
        # What exposes the app: LoadBalancer Services, Ingresses and Gateways that the release renders.
        exposing: list[Obj] = []
        for api_version, kind in sorted({(o["apiVersion"], o["kind"]) for o in rendered.objects}):
            if kind in ("Service", "Ingress", "Gateway"):
                wanted = {Ref.of(o).name for o in rendered.objects if o["kind"] == kind}
                exposing += [
                    o
                    for o in await client.list(api_version, kind, namespace)
                    if o["metadata"]["name"] in wanted
                ]
        events: list[Obj] = []
        with contextlib.suppress(ApiError):
            events = await client.list("v1", "Event", namespace)
        view["dnsController"] = await _dns_controller_view(client, rendered.addons)
    names = {Ref.of(o).name for o in rendered.objects if o.get("kind") == "Deployment"}
    view["services"] = [
        _deployment_view(d, replicasets, pods) for d in deployments if d["metadata"]["name"] in names
    ]
    routed = any(o.get("kind") in ("Ingress", "Gateway") for o in exposing)
    view["endpoints"] = []
    for obj in exposing:
        kind = str(obj.get("kind"))
        spec_type = (obj.get("spec") or {}).get("type", "ClusterIP") if kind == "Service" else kind
        if routed and kind == "Service" and spec_type != "LoadBalancer":
            continue  # a backend behind the Ingress/Gateway, not an endpoint of its own
        state, message = readiness.status(obj)
        annotations = obj["metadata"].get("annotations") or {}
        hostname = next((v for k, v in annotations.items() if k.endswith("kubernetes.io/hostname")), None)
        if hostname is None and kind == "Ingress":
            hostname = next(
                (r.get("host") for r in (obj.get("spec") or {}).get("rules") or [] if r.get("host")), None
            )
        address = readiness.lb_address(obj)
        if kind == "Gateway":
            address = next((a.get("value") for a in (obj.get("status") or {}).get("addresses") or []), None)
        view["endpoints"].append(
            {
                "kind": kind,
                "name": obj["metadata"]["name"],
                "service": obj["metadata"]["name"],
                "type": spec_type,
                "address": address,
                "state": state,
                "message": message,
                "hostname": hostname,
            }
        )
    view["dns"] = []
    for hostname in rendered.hostnames:
        answers = await resolve(hostname, options.dns_server, timeout=1.5)
        view["dns"].append(
            {
                "hostname": hostname,
                "resolves": bool(answers),
                "answers": answers,
                "state": f"resolves to {', '.join(answers)}" if answers else "not resolving yet",
            }
        )

    events = in_time_order(events)
    view["events"] = [
        {
            "type": e.get("type"),
            "reason": e.get("reason"),
            "object": f"{(e.get('involvedObject') or {}).get('kind', '').lower()}/"
            f"{(e.get('involvedObject') or {}).get('name', '')}",
            "message": e.get("message"),
            "count": e.get("count"),
            "last": event_time(e),
        }
        for e in events[-10:]
    ]
    healthy = all(s["state"] == readiness.CURRENT for s in view["services"]) and all(
        e["state"] == readiness.CURRENT for e in view["endpoints"]
    )
    view["healthy"] = bool(view["services"]) and healthy
    return view
