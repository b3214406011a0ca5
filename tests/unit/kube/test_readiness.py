from __future__ import annotations

from typing import Any

from kumo.kube import readiness


def deployment(desired: int = 2, generation: int = 1, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": desired},
        "status": status,
    }


def test_deployment_fully_rolled_out_is_current() -> None:
    obj = deployment(
        observedGeneration=1, replicas=2, updatedReplicas=2, readyReplicas=2, availableReplicas=2
    )
    assert readiness.status(obj) == ("Current", "ready 2/2")


def test_deployment_not_yet_observed_is_in_progress() -> None:
    obj = deployment(generation=2, observedGeneration=1, replicas=2, updatedReplicas=2, availableReplicas=2)
    assert readiness.status(obj)[0] == "InProgress"


def test_deployment_with_old_replicas_is_in_progress() -> None:
    obj = deployment(
        observedGeneration=1, replicas=3, updatedReplicas=2, readyReplicas=3, availableReplicas=3
    )
    state, message = readiness.status(obj)
    assert state == "InProgress"
    assert "old replicas" in message


def test_deployment_progress_deadline_is_failed() -> None:
    obj = deployment(
        observedGeneration=1,
        conditions=[
            {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": 'ReplicaSet "web-1" has timed out progressing.',
            }
        ],
    )
    assert readiness.status(obj) == ("Failed", 'ReplicaSet "web-1" has timed out progressing.')


def pod(**status: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": status}


def test_pod_image_pull_backoff_is_failed_with_reason() -> None:
    obj = pod(
        phase="Pending",
        containerStatuses=[
            {
                "name": "web",
                "image": "nginx:nope",
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling"}},
            }
        ],
    )
    state, message = readiness.status(obj)
    assert state == "Failed"
    assert "ImagePullBackOff" in message
    assert readiness.pod_problem(obj) == (
        "ImagePullBackOff",
        "container web: ImagePullBackOff: Back-off pulling",
    )


def test_pod_unschedulable_is_a_problem() -> None:
    obj = pod(
        phase="Pending",
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available",
            }
        ],
    )
    assert readiness.pod_problem(obj) == ("Unschedulable", "0/3 nodes are available")


def test_pod_running_and_ready_is_current() -> None:
    obj = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    assert readiness.status(obj)[0] == "Current"
    assert readiness.pod_problem(obj) is None


def test_pod_running_not_ready_is_in_progress() -> None:
    assert (
        readiness.status(pod(phase="Running", conditions=[{"type": "Ready", "status": "False"}]))[0]
        == "InProgress"
    )


def test_load_balancer_service_waits_for_address() -> None:
    svc = {"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}, "status": {}}
    assert readiness.status(svc)[0] == "InProgress"
    svc["status"] = {"loadBalancer": {"ingress": [{"hostname": "a.elb.amazonaws.com"}]}}
    assert readiness.status(svc) == ("Current", "load balancer a.elb.amazonaws.com")
    assert readiness.lb_address(svc) == "a.elb.amazonaws.com"


def test_cluster_ip_service_is_current_at_once() -> None:
    assert readiness.status({"kind": "Service", "spec": {"type": "ClusterIP"}})[0] == "Current"


def test_ingress_and_gateway() -> None:
    assert readiness.status({"kind": "Ingress", "status": {}})[0] == "InProgress"
    assert readiness.status(
        {"kind": "Ingress", "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}}
    )[0] == ("Current")
    gateway = {
        "kind": "Gateway",
        "status": {
            "conditions": [{"type": "Programmed", "status": "True"}],
            "addresses": [{"value": "1.2.3.4"}],
        },
    }
    assert readiness.status(gateway) == ("Current", "programmed 1.2.3.4")
    rejected = {
        "kind": "Gateway",
        "status": {"conditions": [{"type": "Accepted", "status": "False", "reason": "X"}]},
    }
    assert readiness.status(rejected)[0] == "Failed"


def test_generic_objects_use_conditions_and_deletion() -> None:
    assert readiness.status({"kind": "ConfigMap", "metadata": {}})[0] == "Current"
    assert readiness.status({"kind": "ConfigMap", "metadata": {"deletionTimestamp": "x"}})[0] == "InProgress"
    stalled = {
        "kind": "Widget",
        "status": {"conditions": [{"type": "Stalled", "status": "True", "message": "m"}]},
    }
    assert readiness.status(stalled) == ("Failed", "m")


def test_replicaset_counts_ready() -> None:
    rs = {
        "kind": "ReplicaSet",
        "spec": {"replicas": 3},
        "status": {"readyReplicas": 1, "availableReplicas": 1},
    }
    assert readiness.status(rs) == ("InProgress", "ready 1/3")
