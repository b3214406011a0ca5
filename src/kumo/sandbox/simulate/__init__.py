"""Simulated cluster behaviour for the Kubernetes API emulator (switchable, deterministic when seeded).

Controllers act through the store's in-process API, like real controllers through the API:

- Deployments create ReplicaSets (``pod-template-hash``), which create Pods; rolling updates
  honour ``maxSurge``/``maxUnavailable``; Deployment status (replicas, updatedReplicas,
  readyReplicas, availableReplicas, observedGeneration, conditions ``Available`` and
  ``Progressing``) is kept true; ``progressDeadlineSeconds`` leads to
  ``Progressing=False/ProgressDeadlineExceeded``.
- Pods are scheduled onto Nodes (``kumo-node-0`` ...) that fit their requests, or stay Pending with
  ``PodScheduled=False/Unschedulable``; they become Ready ``SimConfig.pod_ready_delay`` seconds
  after scheduling.
- **Failure patterns** (substrings of a container's image, configurable in :class:`SimConfig`):

  - ``SimConfig.image_pull_fail`` = ``("doesnotexist", ":bad")``: the container waits with
    ``ErrImagePull`` and then ``ImagePullBackOff``; the Pod never becomes Ready.
  - ``SimConfig.crash_loop`` = ``("crashloop", ":crash")``: the container waits with
    ``CrashLoopBackOff``, ``lastState.terminated.exitCode=1`` and a growing ``restartCount``.

- LoadBalancer Services get ``status.loadBalancer.ingress[0].hostname`` in the AWS ELB form
  (``a<uid>-<digits>.<region>.elb.amazonaws.com``; NLB form ``...elb.<region>.amazonaws.com`` when
  annotated ``service.beta.kubernetes.io/aws-load-balancer-type: nlb``), or an ``ip`` with
  ``lb_mode="generic"``.
- Ingresses get ``status.loadBalancer.ingress[0].hostname`` in the ALB form
  (``k8s-<ns>-<name>-<hash>-<digits>.<region>.elb.amazonaws.com``), with
  ``SimConfig.gateways`` Gateways get ``status.addresses`` and ``Accepted``/``Programmed``
  conditions (IPs in generic mode).
- Endpoints and EndpointSlices follow the Pods a Service selects (ready and not ready).
- Every namespace gets the ``default`` ServiceAccount and the ``kube-root-ca.crt`` ConfigMap.
- Nodes have capacity and allocatable; ``metrics.k8s.io`` NodeMetrics/PodMetrics report usage.
- Events are recorded for scheduling, pulling, starting, back-off and scaling.

The emulator does not import this package: whoever starts it hands it :func:`simulation`,
e.g. ``KubeAPI(controllers=simulation(pod_ready_delay=0.2))``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from kumo.sandbox.kubeapi import Store
from kumo.sandbox.simulate.config import SimConfig
from kumo.sandbox.simulate.core import Simulator
from kumo.sandbox.simulate.services import lb_addresses, lb_hostname

__all__ = ["SimConfig", "Simulator", "lb_addresses", "lb_hostname", "simulation"]


def simulation(**knobs: Any) -> Callable[[Store], Simulator]:
    """The simulation as the emulator's controllers (``EmulatorOptions.controllers``): ``knobs``
    are :class:`SimConfig` fields; the seed is the emulator's unless ``seed`` is given."""
    known = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = sorted(set(knobs) - known)
    if unknown:
        raise TypeError(f"unknown simulation settings: {', '.join(unknown)}")

    def build(store: Store) -> Simulator:
        return Simulator(store, SimConfig(**{"seed": store.seed, **knobs}))

    return build
