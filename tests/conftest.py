"""Fixtures shared by every test area. Area-specific fixtures live in that area's conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation


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
