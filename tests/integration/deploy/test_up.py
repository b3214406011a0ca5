"""kumo up against the emulator: first deploy, rolling update, atomic rollback, add-ons, history."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kumo.deploy import DeployFailed, DeployOptions, history, rollback, up
from kumo.kube import KubeClient

from .conftest import EXAMPLE, Recorder, SpecFile, image_of, kumo, kumo_loading, pods_of, ready

pytestmark = pytest.mark.integration


async def test_a_kind_the_cluster_lacks_is_refused_before_any_write(
    spec: SpecFile, kubeapi: Any, kube: KubeClient
) -> None:
    # A Gateway with tls: auto on the generic profile asks cert-manager for a Certificate; the emulator has no
    # cert-manager CRDs, as a bare conformant cluster has none.
    text = (
        EXAMPLE.read_text().replace('tls: "off"', "tls: auto").replace("expose: ingress", "expose: gateway")
    )
    spec.path.write_text(text)
    namespaces = await kube.list("v1", "Namespace")
    result = kumo("up", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, "--dns-timeout", "0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "does not serve kind Certificate in cert-manager.io/v1" in result.stderr
    assert "nothing was changed" in result.stderr
    assert await kube.list("v1", "Namespace") == namespaces


async def test_first_deploy_of_the_example_with_addons(kubeapi: Any, kube: KubeClient) -> None:
    result, loaded = kumo_loading(
        ("rich", "kumo.deploy.live", "kumo.deploy.diff"),
        *("up", str(EXAMPLE), "--kubeconfig", kubeapi.kubeconfig, "--dns-timeout", "0", "--output", "json"),
    )
    assert result.returncode == 0, result.stderr
    # Progress into a pipe is plain text: Rich (about 25 ms of start-up) is never imported, nor
    # what only `kumo diff` and `kumo status` use.
    assert loaded == []
    out = json.loads(result.stdout)
    assert out["revision"] == 1
    assert out["status"] == "deployed"
    assert out["urls"] == ["http://hello.sandbox.test"]
    # Add-ons first: the DNS controller is applied before the app's namespace.
    applied = [(o["kind"], o["name"]) for o in out["applied"]]
    assert applied[0] == ("Namespace", "hello")
    assert "installing add-ons" in result.stderr
    assert result.stderr.index("deployment/kumo-dns") < result.stderr.index("deployment/web")
    controller = await kube.get("apps/v1", "Deployment", "kumo-dns", "kumo-system")
    assert controller is not None
    web = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert web is not None
    assert web["status"]["readyReplicas"] == 2
    for kind in ("Deployment", "Service"):
        labels = (await kube.get("apps/v1" if kind == "Deployment" else "v1", kind, "web", "hello"))[
            "metadata"
        ]["labels"]
        assert labels["kumo.dev/app"] == "hello"
        assert labels["kumo.dev/env"] == "default"
        assert labels["kumo.dev/release"] == "hello"
    managers = {m["manager"] for m in web["metadata"]["managedFields"]}
    assert "kumo" in managers
    # Live progress per object was shown, ending ready.
    assert "deployment/web" in result.stderr
    assert "ready 2/2" in result.stderr
    hist = kumo("history", str(EXAMPLE), "--kubeconfig", kubeapi.kubeconfig, "--output", "json", check=True)
    (revision,) = json.loads(hist.stdout)["revisions"]
    assert revision["status"] == "deployed"
    assert "@" in revision["deployedBy"]


async def test_image_update_rolls_to_new_pods(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    first = await up(spec.render(), options)
    assert first.urls == ["http://web.hello.sandbox.test"]
    old_pods = {p["metadata"]["name"] for p in await pods_of(kube, "hello", "web")}
    recorder = Recorder()
    second = await up(spec.write(image="nginx:1.28").render(), options, recorder)
    assert second.revision == 2
    assert second.status == "deployed"
    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert image_of(deployment) == "nginx:1.28"
    pods = await pods_of(kube, "hello", "web")
    assert {p["spec"]["containers"][0]["image"] for p in pods if ready(p)} == {"nginx:1.28"}
    assert not old_pods & {p["metadata"]["name"] for p in pods if ready(p)}
    states = [s.state for snap in recorder.snapshots for s in snap if s.ref.kind == "Deployment"]
    assert states, "progress was reported while waiting"
    assert states[-1] == "Current"
    revisions = await history(spec.render(), options)
    assert [(r.number, r.status) for r in revisions] == [(1, "superseded"), (2, "deployed")]
    assert revisions[1].images == {"web/web": "nginx:1.28"}


async def test_bad_image_is_rolled_back_and_old_pods_keep_serving(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    with pytest.raises(DeployFailed) as caught:
        await up(spec.write(image="nginx:doesnotexist").render(), options)
    failed = caught.value
    assert "rolled back to revision 1" in failed.message
    assert "ImagePullBackOff" in failed.message or "ErrImagePull" in failed.message
    assert failed.result.failure is not None
    assert failed.result.failure.reason in ("ImagePullBackOff", "ErrImagePull")
    assert failed.result.failure.pod is not None
    assert failed.result.rolled_back_to == 1
    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert image_of(deployment) == "nginx:1.27"
    serving = [p for p in await pods_of(kube, "hello", "web") if ready(p)]
    assert len(serving) == 2
    assert {p["spec"]["containers"][0]["image"] for p in serving} == {"nginx:1.27"}
    revisions = await history(spec.render(), options)
    assert [(r.number, r.status) for r in revisions] == [(1, "superseded"), (2, "failed"), (3, "deployed")]
    assert revisions[1].failure is not None
    assert "doesnotexist" in revisions[1].failure or "ImagePull" in revisions[1].failure
    assert revisions[2].description == "rollback to 1 after revision 2 failed"
    events = await kube.list("v1", "Event", "hello")
    (note,) = [e for e in events if e["reason"] == "KumoRollbackTriggered"]
    assert note["involvedObject"]["name"] == "web"
    assert note["type"] == "Warning"
    text = kumo("history", str(spec.path), "--kubeconfig", options.kubeconfig or "", check=True).stdout
    assert "failed" in text
    assert "ImagePull" in text


async def test_crash_loop_is_detected_and_a_failed_first_revision_is_removed(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    with pytest.raises(DeployFailed) as caught:
        await up(spec.write(image="busybox:crash").render(), options)
    assert "CrashLoopBackOff" in caught.value.message
    assert "was removed" in caught.value.message
    # The report carries what the container printed before it died (its previous run's log).
    failure = caught.value.result.failure
    assert failure is not None and failure.logs, caught.value.message
    assert failure.logs[-1].startswith("web: ") and "exited with code" in failure.logs[-1]
    assert "  log: web: " in caught.value.message
    assert await kube.get("apps/v1", "Deployment", "web", "hello") is None
    assert await kube.get("v1", "Service", "web", "hello") is None
    revisions = await history(spec.render(), options)
    assert [(r.number, r.status) for r in revisions] == [(1, "failed")]


async def test_no_atomic_leaves_the_failed_rollout_in_place(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    options.atomic = False
    with pytest.raises(DeployFailed) as caught:
        await up(spec.write(image="nginx:bad").render(), options)
    assert "revision 2 failed" in caught.value.message
    assert caught.value.hint is not None and "left as it is" in caught.value.hint
    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert image_of(deployment) == "nginx:bad"
    options.atomic = True
    result = await rollback(spec.render(), None, options)
    assert result.target == 1
    assert result.ready
    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert image_of(deployment) == "nginx:1.27"


async def test_rollback_command_and_max_history(spec: SpecFile, kubeapi: Any, kube: KubeClient) -> None:
    base = ["--kubeconfig", kubeapi.kubeconfig]
    for image in ("nginx:1.25", "nginx:1.26", "nginx:1.27"):
        spec.write(image=image)
        kumo("up", str(spec.path), *base, "--dns-timeout", "0", "--max-history", "2", check=True)
    back = kumo("rollback", str(spec.path), "1", *base, "--output", "json")
    assert back.returncode == 2, back.stdout + back.stderr  # revision 1 was trimmed away
    assert "no revision 1; available: 2, 3" in back.stderr
    back = kumo("rollback", str(spec.path), "2", *base, "--max-history", "2", "--output", "json", check=True)
    assert json.loads(back.stdout)["rolledBackTo"] == 2
    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert image_of(deployment) == "nginx:1.26"
    hist = json.loads(kumo("history", str(spec.path), *base, "--output", "json", check=True).stdout)[
        "revisions"
    ]
    assert [r["revision"] for r in hist] == [3, 4]
    assert hist[-1]["description"] == "rollback to 2"
    secrets = await kube.list("v1", "Secret", "hello", label_selector="kumo.dev/release-name=hello")
    assert len(secrets) == 2
    assert all(s["type"] == "kumo.dev/release" for s in secrets)


async def test_an_unschedulable_pod_fails_the_rollout_after_the_grace(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    # More CPU than any simulated node has: the new Pods can never be scheduled.
    spec.path.write_text(
        spec.path.read_text().replace(
            "    port: 80\n", "    port: 80\n    resources:\n      requests: {cpu: '64', memory: 64Mi}\n", 1
        )
    )
    options.unschedulable_grace = 0.5
    with pytest.raises(DeployFailed) as caught:
        await up(spec.render(), options)
    assert caught.value.result.failure is not None
    assert caught.value.result.failure.reason == "Unschedulable"
    assert "Insufficient cpu" in caught.value.message
    assert caught.value.result.rolled_back_to == 1
    serving = [p for p in await pods_of(kube, "hello", "web") if ready(p)]
    assert len(serving) == 2
