"""Fixtures shared by every test area. Area-specific fixtures live in that area's conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation


@pytest.fixture(scope="session", autouse=True)
def kumo_server_runtime() -> Iterator[None]:
    """The ``kumo`` executables the tests run use a resident server (kumo.cli.server) as a user's
    do; theirs lives in a directory of this session's, and is stopped when the session ends."""
    runtime = tempfile.mkdtemp(prefix="kumo-tests-")
    saved = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = runtime
    yield
    subprocess.run(
        [str(Path(sys.executable).parent / "kumo"), "server", "stop"], capture_output=True, timeout=60
    )
    if saved is None:
        os.environ.pop("XDG_RUNTIME_DIR", None)
    else:
        os.environ["XDG_RUNTIME_DIR"] = saved
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def kubeapi(tmp_path: Path) -> Iterator[KubeAPI]:
    """A fresh Kubernetes API emulator for one test, simulation on and fast.

    ``kubeapi.url`` is ``http://127.0.0.1:PORT``; ``kubeapi.kubeconfig`` is a kubeconfig file whose
    current context (namespace ``default``) points at it. Pods become Ready about 0.2 s after they
    are scheduled, and a deleted Pod is Terminating for about 0.2 s; LoadBalancer Services get an
    ELB hostname (us-east-1) after about 0.05 s.
    Images containing ``doesnotexist`` or ``:bad`` go to ImagePullBackOff, images containing
    ``crashloop`` or ``:crash`` to CrashLoopBackOff (see :mod:`kumo.sandbox.simulate`).
    """
    with KubeAPI(
        kubeconfig=tmp_path / "kubeconfig",
        seed=0,
        bookmark_interval=1.0,
        controllers=simulation(pod_ready_delay=0.2, lb_delay=0.05, crash_interval=0.3, termination_delay=0.2),
    ) as api:
        yield api
