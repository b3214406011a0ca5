"""NodePort and ClusterIP allocation: unique among live Services, freed on delete, never a hang."""

from __future__ import annotations

import random

import pytest

from kumo.sandbox.kubeapi.defaults import NODE_PORT_RANGE, Allocator
from kumo.sandbox.kubeapi.errors import ApiError


def test_a_full_node_port_range_is_a_422_not_a_hang() -> None:
    alloc = Allocator(random.Random(0))
    ports = {alloc.node_port() for _ in NODE_PORT_RANGE}
    assert ports == set(NODE_PORT_RANGE)
    with pytest.raises(ApiError) as exc:
        alloc.node_port()
    assert exc.value.code == 422
    assert "range 30000-32767 is full" in exc.value.message


def test_release_frees_the_services_ports_and_ips() -> None:
    alloc = Allocator(random.Random(0))
    for _ in NODE_PORT_RANGE:
        alloc.node_port()
    ip = alloc.ip()
    service = {"spec": {"clusterIPs": [ip], "ports": [{"port": 443, "nodePort": 31000}]}}
    alloc.release(service)
    assert ip not in alloc.ips
    assert alloc.node_port() == 31000
