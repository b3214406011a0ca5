"""Knobs of the simulated cluster."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimConfig:
    seed: int | None = None
    #: seconds from scheduling to a Pod's containers running and Ready
    pod_ready_delay: float = 1.0
    #: seconds before a LoadBalancer Service gets its ingress hostname/IP
    lb_delay: float = 0.2
    #: at most this many seconds of a deleted Pod's terminationGracePeriodSeconds are waited
    #: (the Pod is Terminating meanwhile), so scale-downs and deletes look real but stay quick
    termination_delay: float = 1.0
    nodes: int = 3
    #: the objects a fresh cluster already has (default/kubernetes Service, CoreDNS, kube-proxy,
    #: metrics-server in kube-system)
    system_pods: bool = True
    node_cpu: str = "4"
    node_memory: str = "16Gi"
    node_pods: int = 110
    region: str = "us-east-1"
    #: "aws" gives ELB/NLB hostnames; "generic" gives IPs
    lb_mode: str = "aws"
    #: an image containing any of these substrings never pulls (ErrImagePull -> ImagePullBackOff)
    image_pull_fail: tuple[str, ...] = ("doesnotexist", ":bad")
    #: an image containing any of these substrings starts, exits 1 and restarts (CrashLoopBackOff)
    crash_loop: tuple[str, ...] = ("crashloop", ":crash")
    #: seconds between restarts of a crash-looping container (doubles up to 8x, like kubelet back-off)
    crash_interval: float = 1.0
    kubelet_version: str = "v1.33.0"
    #: seconds between two evaluations of a HorizontalPodAutoscaler (kube-controller-manager: 15)
    hpa_sync_period: float = 15.0
    #: act as a Gateway API implementation (addresses, Accepted/Programmed); off because gateway
    #: implementations are add-ons a cluster may not have
    gateways: bool = False
