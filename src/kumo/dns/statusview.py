"""A read-only JSON view of what the DNS controller manages: every name, its records, owners, errors.

Served at ``/status.json`` on the metrics port, so the console (and an operator with curl) can see
what the controller sees without provider credentials of its own. It reads the controller's
in-memory state only: serving it never calls the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kumo.dns.endpoint import OWNER_LABEL, RECORD_TXT, RESOURCE_LABEL, Endpoint

if TYPE_CHECKING:
    from kumo.dns.controller import Controller

#: Version of the document's shape; bumped when a field changes meaning.
SCHEMA_VERSION = 1


def _record(ep: Endpoint) -> dict[str, Any]:
    return {"type": ep.record_type, "targets": list(ep.targets), "ttl": ep.record_ttl}


def status_view(controller: Controller) -> dict[str, Any]:
    """Every name the controller wants or owns: desired records, provider records, owner, match, error."""
    owner = controller.owner
    mapper = controller.registry.mapper

    lookup = controller.cache.lookup
    names: set[str] = set(controller.by_name)
    for ep in controller.cache.endpoints():
        if ep.record_type == RECORD_TXT:
            record_name, _ = mapper.endpoint_name(ep.dns_name)
            if record_name:
                names.add(record_name)
        elif ep.record_type in controller.config.managed_types:
            names.add(ep.dns_name)
    entries: list[dict[str, Any]] = []
    conflicts = 0
    for name in sorted(names):
        desired = controller.desired_at(name)
        view = controller.registry.view(name, lookup)
        current = [ep for ep in view.records if ep.record_type in controller.config.managed_types]
        if not desired and not current:
            continue
        owners = sorted({ep.labels.get(OWNER_LABEL, "") for ep in current})
        resources = sorted({ep.labels.get(RESOURCE_LABEL, "") for ep in current} - {""})
        foreign = [o for o in owners if o != owner]
        wanted = {(e.record_type, tuple(sorted(e.targets))) for e in desired}
        have = {(e.record_type, tuple(sorted(e.targets))) for e in current}
        conflict = bool(desired) and bool(foreign) and bool(owner)
        conflicts += conflict
        entries.append(
            {
                "name": name,
                "desired": [_record(e) for e in desired],
                "records": [_record(e) for e in current],
                "owners": [o for o in owners if o],
                "resources": resources,
                "owned": bool(current) and not foreign,
                "matches": wanted == have,
                "conflict": conflict,
                "error": controller.failures.get(name),
            }
        )
    healthy, detail = controller.healthy()
    return {
        "schemaVersion": SCHEMA_VERSION,
        "ownerId": owner,
        "leader": controller.is_leader,
        "providerLoaded": controller.provider_loaded,
        "healthy": healthy,
        "detail": detail,
        "lastError": controller.last_error,
        "conflicts": conflicts,
        "names": entries,
    }
