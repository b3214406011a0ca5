"""The zones one DNS controller serves for every kumo release in the cluster, and their owner ids.

Decision (docs/dns.md, "One controller for every release"): each release registers its zone and
owner id as one key of the ConfigMap ``kumo-dns-zones`` in the controller's namespace, written with
server-side apply under a field manager of its own (``kumo-release.<namespace>.<release>``), so a
release never touches another's key. The controller, started with
``--zones-configmap=NAMESPACE/NAME``, watches that ConfigMap: the union of the zones is its domain
filter, and a name's records carry the owner id of the most specific zone that contains it.
A change is picked up by the watch, without a restart or a redeploy of the add-on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("kumo.dns.zoneconfig")

ZONES_CONFIGMAP = "kumo-dns-zones"


def entry_key(namespace: str, release: str) -> str:
    """The ConfigMap key of a release (keys allow letters, digits, '-', '_' and '.')."""
    return f"{namespace}.{release}"


def entry_manager(namespace: str, release: str) -> str:
    """The field manager a release writes its key with."""
    return f"kumo-release.{namespace}.{release}"


def entry_value(zone: str, owner_id: str) -> str:
    return json.dumps({"zone": zone, "ownerId": owner_id}, sort_keys=True)


@dataclass(frozen=True)
class ZoneOwners:
    """zone -> owner id. A name belongs to the most specific zone that contains it."""

    zones: dict[str, str] = field(default_factory=dict)
    #: who registered each zone (ConfigMap keys), for messages
    sources: dict[str, list[str]] = field(default_factory=dict)

    def zone_of(self, name: str) -> str | None:
        name = name.lower().rstrip(".")
        best: str | None = None
        for zone in self.zones:
            if (name == zone or name.endswith("." + zone)) and (best is None or len(zone) > len(best)):
                best = zone
        return best

    def owner_of(self, name: str) -> str | None:
        zone = self.zone_of(name)
        return None if zone is None else self.zones[zone]

    def owners(self) -> set[str]:
        return set(self.zones.values())


def parse_configmap(configmap: dict[str, Any] | None) -> ZoneOwners:
    """The zones a ConfigMap registers. A bad entry is logged and skipped; two releases that claim
    one zone with different owner ids keep the first (by key) and the other is logged."""
    data = (configmap or {}).get("data") or {}
    zones: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    for key in sorted(data):
        try:
            entry = json.loads(data[key])
            zone = str(entry["zone"]).lower().rstrip(".")
            owner = str(entry["ownerId"])
        except (ValueError, KeyError, TypeError):
            log.warning('zones ConfigMap key %s: expected {"zone": ..., "ownerId": ...}; ignored', key)
            continue
        if zone in zones and zones[zone] != owner:
            log.warning(
                "zone %s: %s asks for owner id %s, but %s registered it with %s; keeping %s",
                zone,
                key,
                owner,
                ", ".join(sources[zone]),
                zones[zone],
                zones[zone],
            )
            continue
        zones[zone] = owner
        sources.setdefault(zone, []).append(key)
    return ZoneOwners(zones, sources)
