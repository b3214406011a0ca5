from __future__ import annotations

import base64
import gzip
import json

from kumo.deploy.objects import Ref, in_apply_order, in_delete_order, labelled
from kumo.deploy.releases import SECRET_TYPE, Revision, decode, encode
from kumo.deploy.wait import deployment_failure, newest_replicaset


def test_revision_round_trips_through_a_compressed_secret() -> None:
    manifests = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}} for i in range(50)]
    revision = Revision(
        3,
        "failed",
        "me@host/1",
        "2026-01-01T00:00:00Z",
        "kumo up",
        "ImagePullBackOff",
        {"web/web": "nginx:bad"},
        manifests,
        {"app": "hello"},
        "pr-1",
    )
    secret = encode("hello", "hello", revision)
    assert secret["type"] == SECRET_TYPE
    assert secret["metadata"]["name"] == "kumo.release.hello.v3"
    assert secret["metadata"]["labels"]["kumo.dev/status"] == "failed"
    raw = json.loads(gzip.decompress(base64.b64decode(secret["data"]["manifests"])))
    assert raw == manifests
    assert len(secret["data"]["manifests"]) < len(json.dumps(manifests)) / 3
    assert decode(secret) == revision


def test_labels_reach_pod_templates_but_not_selectors() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"a": "1"}},
        "spec": {"selector": {"matchLabels": {"a": "1"}}, "template": {"metadata": {"labels": {"a": "1"}}}},
    }
    out = labelled(obj, {"kumo.dev/release": "hello"})
    assert out["metadata"]["labels"] == {"a": "1", "kumo.dev/release": "hello"}
    assert out["spec"]["template"]["metadata"]["labels"]["kumo.dev/release"] == "hello"
    assert out["spec"]["selector"] == {"matchLabels": {"a": "1"}}
    assert "kumo.dev/release" not in obj["metadata"]["labels"]


def test_apply_order_puts_namespace_first_and_deletion_reverses_it() -> None:
    objects = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}},
    ]
    assert [o["kind"] for o in in_apply_order(objects)] == ["Namespace", "Service", "Deployment"]
    assert [o["kind"] for o in in_delete_order(objects)] == ["Deployment", "Service", "Namespace"]
    assert Ref.of(objects[0]).short == "deployment/d"


def _rs(name: str, revision: str, uid: str = "d1") -> dict[str, object]:
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [{"kind": "Deployment", "uid": uid, "name": "web"}],
        }
    }


def test_newest_replicaset_follows_the_revision_annotation() -> None:
    deployment = {"metadata": {"name": "web", "uid": "d1"}}
    assert (
        newest_replicaset(deployment, [_rs("a", "2"), _rs("b", "10"), _rs("c", "3")])["metadata"]["name"]
        == "b"
    )
    assert newest_replicaset(deployment, [_rs("x", "1", uid="other")]) is None


def test_failure_only_counts_pods_of_the_current_rollout() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "n", "uid": "d1", "generation": 2},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 2},
    }
    bad_pod = {
        "metadata": {"name": "web-old-1", "ownerReferences": [{"kind": "ReplicaSet", "uid": "uid-old"}]},
        "status": {
            "containerStatuses": [{"name": "web", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]
        },
    }
    replicasets = [_rs("old", "1"), _rs("new", "2")]
    assert deployment_failure(deployment, replicasets, [bad_pod]) is None
    bad_pod["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "uid": "uid-new"}]  # type: ignore[index]
    failure = deployment_failure(deployment, replicasets, [bad_pod])
    assert failure is not None
    assert failure.reason == "ImagePullBackOff"
    assert failure.pod == "web-old-1"
    # Until the controller observes the new generation, its newest ReplicaSet is an old one: no verdict.
    deployment["status"] = {"observedGeneration": 1}
    assert deployment_failure(deployment, replicasets, [bad_pod]) is None


def test_after_a_rollback_the_broken_replicaset_is_not_judged_while_the_cache_lags() -> None:
    # The controller revived the old ReplicaSet as revision 3 and says so on the Deployment, but the
    # ReplicaSet cache still shows it as revision 1 and the broken one as 2 (the newest seen).
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "n",
            "uid": "d1",
            "generation": 3,
            "annotations": {"deployment.kubernetes.io/revision": "3"},
        },
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 3},
    }
    broken_pod = {
        "metadata": {"name": "web-bad-1", "ownerReferences": [{"kind": "ReplicaSet", "uid": "uid-bad"}]},
        "status": {
            "containerStatuses": [{"name": "web", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]
        },
    }
    lagging = [_rs("good", "1"), _rs("bad", "2")]
    assert newest_replicaset(deployment, lagging) is None
    assert deployment_failure(deployment, lagging, [broken_pod]) is None
    caught_up = [_rs("good", "3"), _rs("bad", "2")]
    current = newest_replicaset(deployment, caught_up)
    assert current is not None and current["metadata"]["name"] == "good"
    assert deployment_failure(deployment, caught_up, [broken_pod]) is None
    # The Deployment's own revision still picks out a broken current rollout.
    deployment["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}  # type: ignore[index]
    failure = deployment_failure(deployment, caught_up, [broken_pod])
    assert failure is not None and failure.reason == "ImagePullBackOff"
