"""A Kubernetes API emulator that kubectl and client libraries accept (in the spirit of KWOK).

Layout: :mod:`catalog` (the kinds served), :mod:`store` (objects, resourceVersions, event log,
watchers), :mod:`admission` (checks, pruning, defaults, validation on every write), :mod:`crds`
(serving written CRDs), :mod:`namespaces` (Terminating, finalisation), :mod:`conversion`
(events.k8s.io Events as a view of the core Events), :mod:`scale` and :mod:`eviction`
(subresources), :mod:`selectors`, :mod:`patch`, :mod:`apply` (server-side apply),
:mod:`validation`, :mod:`gc` (owner references, emptying deleted namespaces), :mod:`server`
(HTTP), :mod:`runner` (thread, subprocess and foreground modes), :mod:`kubeconfig`.

Simulated cluster behaviour lives apart, in :mod:`kumo.sandbox.simulate`, which uses only this
package's public surface (below); the emulator runs it through the :class:`Controllers`
protocol and never imports it.
"""

from kumo.sandbox.kubeapi.catalog import Catalog, ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.kubeconfig import kubeconfig_dict, write_kubeconfig
from kumo.sandbox.kubeapi.objects import fast_copy, now_rfc3339
from kumo.sandbox.kubeapi.runner import (
    Controllers,
    ControllersFactory,
    Emulator,
    EmulatorOptions,
    KubeAPI,
    KubeAPIProcess,
)
from kumo.sandbox.kubeapi.selectors import labels_match, selector_from_label_selector_obj
from kumo.sandbox.kubeapi.store import Event, Store

__all__ = [
    "ApiError",
    "Catalog",
    "Controllers",
    "ControllersFactory",
    "Emulator",
    "EmulatorOptions",
    "Event",
    "KubeAPI",
    "KubeAPIProcess",
    "ResourceType",
    "Store",
    "fast_copy",
    "kubeconfig_dict",
    "labels_match",
    "now_rfc3339",
    "selector_from_label_selector_obj",
    "write_kubeconfig",
]
