"""Fixtures for the emulator's own conformance tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kumo.sandbox.kubeapi import KubeAPI


@pytest.fixture
def http(kubeapi: KubeAPI) -> Iterator[httpx.Client]:
    """A plain HTTP client on the emulator, for checking status codes and bodies exactly."""
    with httpx.Client(base_url=kubeapi.url, timeout=30) as client:
        yield client


@pytest.fixture
def bare_api() -> Iterator[KubeAPI]:
    """An emulator without simulation (nothing but the API acts), with a tiny watch window."""
    with KubeAPI(seed=1, window=20, bookmark_interval=0.2) as api:
        yield api


@pytest.fixture
def bare(bare_api: KubeAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bare_api.url, timeout=30) as client:
        yield client
