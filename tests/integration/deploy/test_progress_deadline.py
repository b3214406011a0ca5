"""A rollout that stops progressing fails on the Deployment's progress deadline and is rolled back."""

from __future__ import annotations

import pytest

from kumo.deploy import DeployFailed, DeployOptions, history, up
from kumo.kube import KubeClient

from .conftest import SpecFile, image_of, kumo, pods_of, ready

pytestmark = pytest.mark.integration


async def test_a_rollout_stuck_past_its_progress_deadline_fails_early_and_is_rolled_back(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    # kumo.yaml has no progress deadline; an operator tightens it with a patch, a field kumo does
    # not manage, so server-side apply leaves it in place on the next deploy.
    await kube.patch("apps/v1", "Deployment", "web", {"spec": {"progressDeadlineSeconds": 3}}, "hello")
    # New Pods that can never be scheduled, with an Unschedulable grace far beyond the run's timeout:
    # only the Deployment's own Progressing=False/ProgressDeadlineExceeded can end this rollout early.
    spec.path.write_text(
        spec.path.read_text().replace(
            "    port: 80\n", "    port: 80\n    resources:\n      requests: {cpu: '64', memory: 64Mi}\n", 1
        )
    )
    options.unschedulable_grace = 3600
    options.timeout = 45
    with pytest.raises(DeployFailed) as caught:
        await up(spec.render(), options)
    failed = caught.value
    assert failed.result.failure is not None
    assert failed.result.failure.reason == "ProgressDeadlineExceeded"
    assert failed.result.failure.ref.kind == "Deployment"
    assert failed.result.failure.ref.name == "web"
    assert "ProgressDeadlineExceeded" in failed.message
    assert "timed out progressing" in failed.message
    assert "rolled back to revision 1" in failed.message
    assert failed.result.rolled_back_to == 1

    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    assert image_of(deployment) == "nginx:1.27"
    serving = [p for p in await pods_of(kube, "hello", "web") if ready(p)]
    assert len(serving) == 2

    revisions = await history(spec.render(), options)
    assert [(r.number, r.status) for r in revisions] == [(1, "superseded"), (2, "failed"), (3, "deployed")]
    assert revisions[1].failure is not None
    assert "ProgressDeadlineExceeded" in revisions[1].failure
    assert revisions[2].description == "rollback to 1 after revision 2 failed"
    events = await kube.list("v1", "Event", "hello")
    (note,) = [e for e in events if e["reason"] == "KumoRollbackTriggered"]
    assert note["involvedObject"]["name"] == "web"
    assert "ProgressDeadlineExceeded" in note["message"]
    text = kumo("history", str(spec.path), "--kubeconfig", options.kubeconfig or "", check=True).stdout
    assert "failed" in text
    assert "ProgressDeadlineExceeded" in text
