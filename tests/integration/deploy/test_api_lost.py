"""The API server dies in the middle of `kumo up` (issue 10, item 6)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from kumo.deploy import DeployOptions, ObjectProgress, up
from kumo.errors import ClusterError
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation

from .conftest import Recorder, SpecFile

pytestmark = pytest.mark.integration


class StopsTheApi(Recorder):
    """Stops the emulator (from another thread, as a crash would) once the wait has begun."""

    def __init__(self, api: KubeAPI) -> None:
        super().__init__()
        self.api = api
        self.stopper: threading.Thread | None = None

    def progress(self, objects: list[ObjectProgress]) -> None:
        super().progress(objects)
        if self.stopper is None:
            self.stopper = threading.Thread(target=self.api.stop)
            self.stopper.start()


async def test_item06_api_dies_mid_deploy_fails_bounded_with_release_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = SpecFile(tmp_path / "kumo.yaml").write()
    # Pods never become Ready here, so only the API going away can end the wait before --timeout.
    with KubeAPI(
        kubeconfig=tmp_path / "kubeconfig", seed=0, controllers=simulation(pod_ready_delay=3600)
    ) as api:
        url = api.url
        options = DeployOptions(
            kubeconfig=str(tmp_path / "kubeconfig"), timeout=60, dns_timeout=0, lock_duration=2
        )
        reporter = StopsTheApi(api)
        with (
            caplog.at_level(logging.DEBUG, logger="kumo"),
            pytest.raises(ClusterError) as caught,
        ):
            await up(spec.render(), options, reporter)
        assert reporter.stopper is not None
        reporter.stopper.join()
    message = caught.value.message
    assert message.startswith(f"lost the Kubernetes API at {url}: no answer for "), message
    assert "(the limit is 2 s, the release lock's lease; last failure: " in message
    assert (
        "release hello revision 1 is left pending, after applying its objects, before the rollout" in message
    )
    assert "not ready after" not in message
    assert caught.value.hint is not None and "lock expires by itself within 2 s" in caught.value.hint
    warnings = [r.getMessage().split(":")[0] for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == len(set(warnings)), (
        warnings
    )  # one warning per informer and the lock, not one per retry
