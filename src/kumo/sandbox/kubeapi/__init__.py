"""A Kubernetes API emulator that kubectl and client libraries accept (in the spirit of KWOK).

Layout: :mod:`catalog` (the kinds served), :mod:`store` (objects, resourceVersions, event log,
watchers), :mod:`selectors`, :mod:`patch`, :mod:`apply` (server-side apply), :mod:`validation`,
:mod:`gc` (owner references, namespace deletion), :mod:`server` (HTTP), :mod:`runner` (thread,
subprocess and foreground modes), :mod:`kubeconfig`. Simulated cluster behaviour lives apart, in
:mod:`kumo.sandbox.simulate`.
"""

from kumo.sandbox.kubeapi.catalog import Catalog, ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.kubeconfig import kubeconfig_dict, write_kubeconfig
from kumo.sandbox.kubeapi.runner import Emulator, EmulatorOptions, KubeAPI, KubeAPIProcess
from kumo.sandbox.kubeapi.store import Event, Store

__all__ = [
    "ApiError",
    "Catalog",
    "Emulator",
    "EmulatorOptions",
    "Event",
    "KubeAPI",
    "KubeAPIProcess",
    "ResourceType",
    "Store",
    "kubeconfig_dict",
    "write_kubeconfig",
]
