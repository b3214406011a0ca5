"""The release lock: a killed `kumo up` is recovered from, and concurrent runs never interleave."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from typing import Any

import pytest

from kumo.deploy import DeployOptions, history, lease_name, up
from kumo.errors import ClusterError
from kumo.kube import KubeClient, LeaseLock

from .conftest import KUMO, Recorder, SpecFile, image_of

pytestmark = pytest.mark.integration


async def test_a_killed_up_leaves_a_lease_that_expires_and_the_next_up_takes_over(
    spec: SpecFile, options: DeployOptions, kube: KubeClient, kubeapi: Any
) -> None:
    await up(spec.render(), options)
    spec.write(image="nginx:1.28")
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [
            *KUMO,
            "up",
            str(spec.path),
            "--kubeconfig",
            kubeapi.kubeconfig,
            "--lock-duration",
            "2",
            "--dns-timeout",
            "0",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen = ""
    for line in proc.stderr:
        seen += line
        if "applying revision 2" in line:
            break
    os.kill(proc.pid, signal.SIGKILL)  # no chance to release the lock or record an outcome
    proc.wait(10)
    proc.stderr.close()
    assert "applying revision 2" in seen
    holder = await LeaseLock(kube, lease_name("hello"), "hello").holder_of()
    assert holder is not None, "the killed run should still hold the lease"
    assert holder.identity.endswith(f"/{proc.pid}")

    recorder = Recorder()
    options.lock_duration = 2
    result = await up(spec.render(), options, recorder)
    assert result.took_over_from == holder.identity
    assert any(f"took over the lock of release hello from {holder.identity}" in m for m in recorder.messages)
    assert result.status == "deployed"
    deployment = await kube.get("apps/v1", "Deployment", "web", "hello")
    assert deployment is not None
    assert image_of(deployment) == "nginx:1.28"
    revisions = await history(spec.render(), options)
    assert [(r.number, r.status) for r in revisions] == [
        (1, "superseded"),
        (2, "interrupted"),
        (3, "deployed"),
    ]
    assert revisions[1].failure is not None
    assert "stopped before finishing" in revisions[1].failure


async def test_concurrent_up_fails_naming_the_holder_or_waits_for_it(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    first = DeployOptions(**{**options.__dict__, "identity": "alice@ci/101"})
    second = DeployOptions(**{**options.__dict__, "identity": "bob@laptop/202", "lock_timeout": 0})
    lock = LeaseLock(kube, lease_name("hello"), "hello")

    async def held_by(identity: str) -> None:
        while True:
            holder = await lock.holder_of()
            if holder is not None and holder.identity == identity:
                return
            await asyncio.sleep(0.01)

    # The first run rolls out a new image, which takes a while; the second tries meanwhile, without
    # waiting, and fails naming the holder.
    running = asyncio.create_task(up(spec.write(image="nginx:1.28").render(), first))
    await asyncio.wait_for(held_by("alice@ci/101"), 20)
    with pytest.raises(ClusterError) as caught:
        await up(spec.write(image="nginx:1.29").render(), second)
    assert "release hello is locked by alice@ci/101" in caught.value.message
    assert caught.value.hint is not None and "--lock-timeout" in caught.value.hint
    done_first = await running
    assert done_first.revision == 2
    assert await lock.holder_of() is None, "released on success"

    # A run allowed to wait shows whom it waits for, and goes once the holder lets go.
    other = LeaseLock(kube, lease_name("hello"), "hello", holder="carol@ci/303", duration_seconds=30)
    assert await other.try_acquire()
    recorder = Recorder()
    follower = asyncio.create_task(
        up(spec.render(), DeployOptions(**{**second.__dict__, "lock_timeout": 60}), recorder)
    )
    while not any("held by carol@ci/303" in m for m in recorder.messages):
        assert not follower.done(), "the waiting run must not go ahead while the lock is held"
        await asyncio.sleep(0.02)
    assert any("waiting for the lock of release hello, held by carol@ci/303" in m for m in recorder.messages)
    await other.release()
    done_second = await asyncio.wait_for(follower, 60)
    assert done_second.revision == 3
    revisions = await history(spec.render(), options)
    assert [(r.number, r.status, r.deployed_by) for r in revisions] == [
        (1, "superseded", revisions[0].deployed_by),
        (2, "superseded", "alice@ci/101"),
        (3, "deployed", "bob@laptop/202"),
    ]
