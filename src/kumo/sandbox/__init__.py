"""kumo.sandbox: local stand-ins for a cluster (and, later, a cloud).

- :mod:`kumo.sandbox.kubeapi`: a Kubernetes API emulator that kubectl and client libraries accept;
- :mod:`kumo.sandbox.simulate`: simulated cluster behaviour driving it (Deployments, Pods, Nodes,
  load balancers, metrics), switchable and deterministic when seeded.
"""

from kumo.sandbox.kubeapi import KubeAPI, KubeAPIProcess
from kumo.sandbox.simulate import SimConfig

__all__ = ["KubeAPI", "KubeAPIProcess", "SimConfig"]
