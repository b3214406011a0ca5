"""The release lock: a killed `kumo up` is recovered from, and concurrent runs never interleave."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
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


async def test_concurrent_up_waits_for_the_holder_or_fails_naming_it(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    first = DeployOptions(**{**options.__dict__, "identity": "alice@ci/101"})
    second = DeployOptions(**{**options.__dict__, "identity": "bob@laptop/202", "lock_timeout": 0.3})
    lock = LeaseLock(kube, lease_name("hello"), "hello")

    async def held_by_first() -> None:
        while True:
            holder = await lock.holder_of()
            if holder is not None and holder.identity == "alice@ci/101":
                return
            await asyncio.sleep(0.01)

    # The first run rolls out a new image, which takes a while; the second tries meanwhile.
    running = asyncio.create_task(up(spec.write(image="nginx:1.28").render(), first))
    await asyncio.wait_for(held_by_first(), 20)
    with pytest.raises(ClusterError) as caught:
        await up(spec.write(image="nginx:1.29").render(), second)
    assert "release hello is locked by alice@ci/101" in caught.value.message
    assert caught.value.hint is not None and "--lock-timeout" in caught.value.hint

    # Given time, a waiting run goes after the first, never interleaved with it.
    waiting = DeployOptions(**{**second.__dict__, "lock_timeout": 60})
    recorder = Recorder()
    started = time.monotonic()
    follower = asyncio.create_task(up(spec.render(), waiting, recorder))
    done_first = await running
    done_second = await follower
    assert time.monotonic() >= started
    assert done_first.revision == 2
    assert done_second.revision == 3
    assert any("waiting for the lock of release hello, held by alice@ci/101" in m for m in recorder.messages)
    revisions = await history(spec.render(), options)
    assert [(r.number, r.status, r.deployed_by) for r in revisions] == [
        (1, "superseded", revisions[0].deployed_by),
        (2, "superseded", "alice@ci/101"),
        (3, "deployed", "bob@laptop/202"),
    ]
    # Released on success: nobody holds it now.
    assert await lock.holder_of() is None
