"""Commands run against a running sandbox (``kumo up/down/status ... --sandbox``).

:func:`attach` points this process at the sandbox as its ``env`` file would (``AWS_ENDPOINT_URL``,
fake credentials, ``KUBECONFIG``), so the cloud step, boto3 and kubectl's exec credentials all
reach moto and the emulator through their ordinary configuration, then prepares the sandbox for
the spec (seeded account, Nodes in the spec's cloud and region, the spec's DNS controller).

:func:`adapt_addons` replaces the DNS controller add-on's simulated Pods by the real process that
does its work: the Deployment is applied scaled to 0 and says what runs instead, so the cluster
never shows two replicas doing nothing while the sandbox process holds the Lease.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from kumo.deploy import RUNS_AS_ANNOTATION
from kumo.errors import UsageError
from kumo.sandbox.processes import PidFile
from kumo.sandbox.supervisor import DEFAULT_DIR, Progress, Sandbox, dns_controller_argv, load, prepare
from kumo.spec import Spec

CORE = ("kubeapi", "moto", "dns")


def attach(spec: Spec, directory: Path | None = None, progress: Progress | None = None) -> Sandbox:
    """The running sandbox, with this process's environment pointed at it and ready for ``spec``."""
    directory = directory or Path(os.environ.get("KUMO_SANDBOX_DIR") or DEFAULT_DIR)
    sandbox = load(directory)
    down = [name for name in CORE if not (name in sandbox.services and sandbox.services[name].running)]
    if down:
        raise UsageError(
            f"the sandbox in {sandbox.directory} is not running ({', '.join(down)} stopped)",
            hint="start it with: kumo sandbox up"
            + (f" --dir {directory}" if directory != DEFAULT_DIR else ""),
        )
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE"):
        os.environ.pop(key, None)
    os.environ.update(sandbox.env())
    prepare(sandbox, spec, progress)
    return load(sandbox.directory)


def adapt_addons(addons: list[dict[str, Any]], sandbox: Sandbox, spec: Spec) -> list[dict[str, Any]]:
    """The add-ons as the sandbox applies them: the DNS controller's Deployment at 0 replicas,
    annotated with the process that runs it, when the sandbox runs that controller."""
    if dns_controller_argv(sandbox, spec) is None:
        return addons
    record = PidFile(sandbox.directory, "dns-controller").live()
    if record is None:
        return addons
    from kumo.render import controller_args

    wanted = controller_args(spec)[:2]
    out = []
    for obj in addons:
        containers = (obj.get("spec") or {}).get("template", {}).get("spec", {}).get("containers") or []
        if obj.get("kind") == "Deployment" and any((c.get("args") or [])[:2] == wanted for c in containers):
            obj = copy.deepcopy(obj)
            obj["spec"]["replicas"] = 0
            obj["metadata"].setdefault("annotations", {})[RUNS_AS_ANNOTATION] = (
                f"the sandbox's DNS controller process (pid {record.pid}, "
                f"log {sandbox.directory / 'dns-controller.log'})"
            )
        out.append(obj)
    return out
