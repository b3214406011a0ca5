"""Route 53, through boto3 (honours AWS_ENDPOINT_URL, so it runs unchanged on moto server).

What it adds over a plain client:
- ALIAS records for AWS load balancer hostnames with the canonical hosted zone ids (an annotation
  ``aws-target-hosted-zone`` overrides the zone), an A ALIAS and an AAAA ALIAS per name;
- batches of at most 1000 changes where an UPSERT counts twice, never splitting a change group
  (a record and its TXT);
- a token bucket (``rate_limit`` calls/s) and full-jitter backoff on throttling;
- a rejected batch is bisected until the bad group is alone; it is reported, the rest applied.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped, unused-ignore]

from kumo.dns.endpoint import (
    PS_ALIAS,
    PS_EVALUATE_TARGET_HEALTH,
    PS_TARGET_HOSTED_ZONE,
    RECORD_A,
    RECORD_AAAA,
    RECORD_CNAME,
    Endpoint,
    EndpointKey,
    normalize_name,
)
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes
from kumo.dns.providers.aws_alias import adjust_for_route53, clean_zone_id
from kumo.dns.providers.aws_zones import canonical_hosted_zone
from kumo.dns.providers.base import ApplyResult, Provider, group_key
from kumo.dns.providers.ratelimit import TokenBucket, backoff_delay
from kumo.errors import ProviderError

log = logging.getLogger("kumo.dns.route53")

DEFAULT_TTL = 300
PAGE_SIZE = "300"
MAX_BATCH_COST = 1000  # Route 53: 1000 ResourceRecord elements per request, an UPSERT counts twice
MAX_BATCH_CHARS = 32000
SUPPORTED = frozenset({"A", "AAAA", "CNAME", "TXT", "SRV", "NS", "MX", "NAPTR", "CAA"})
_THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "PriorRequestNotComplete",
        "RequestLimitExceeded",
        "TooManyRequests",
    }
)
_ROUTING = {
    "aws/weight": "Weight",
    "aws/region": "Region",
    "aws/failover": "Failover",
    "aws/health-check-id": "HealthCheckId",
}


def is_throttle(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in _THROTTLE_CODES or status == 429 or "Rate exceeded" in str(err.get("Message", ""))
    return False


@dataclass
class Zone:
    id: str  # without the /hostedzone/ prefix
    name: str
    private: bool


@dataclass(slots=True)
class _Change:
    """One change: its request body is built when its batch is sent, not for every change of a
    sync at once (at 10,000 Services 20,000 bodies of nested dicts were the peak of a pass)."""

    group: str
    action: str
    endpoint: Endpoint
    rrset: Callable[[], dict[str, Any]]
    cost: int
    chars: int

    @property
    def body(self) -> dict[str, Any]:
        return {"Action": self.action, "ResourceRecordSet": self.rrset()}


@dataclass
class _Batch:
    changes: list[_Change] = field(default_factory=list)

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(c.group for c in self.changes))


def _wildcard_unescape(name: str) -> str:
    return name.replace("\\052", "*", 1)


def make_client(profile: str = "", assume_role: str = "", external_id: str = "", region: str = "") -> Any:
    """A Route 53 client for ``--aws-profile``, optionally through ``--aws-assume-role`` (STS).

    The assumed role's credentials refresh themselves before they expire, as external-dns's
    AssumeRoleProvider does.
    """
    from botocore.credentials import RefreshableCredentials  # type: ignore[import-untyped, unused-ignore]
    from botocore.exceptions import ProfileNotFound  # type: ignore[import-untyped, unused-ignore]
    from botocore.session import get_session  # type: ignore[import-untyped, unused-ignore]

    config = Config(retries={"total_max_attempts": 1}, max_pool_connections=4)
    region = region or "us-east-1"
    try:
        session = boto3.Session(profile_name=profile or None)
    except ProfileNotFound as exc:
        raise ProviderError(f"--aws-profile: {exc}") from None
    if not assume_role:
        return session.client("route53", region_name=region, config=config)
    sts = session.client("sts", region_name=region)

    def fetch() -> dict[str, str]:
        kwargs: dict[str, Any] = {"RoleArn": assume_role, "RoleSessionName": "kumo-dns"}
        if external_id:
            kwargs["ExternalId"] = external_id
        try:
            creds = sts.assume_role(**kwargs)["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise ProviderError(f"--aws-assume-role {assume_role}: {exc}") from exc
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    botocore_session = get_session()
    botocore_session._credentials = RefreshableCredentials.create_from_metadata(fetch(), fetch, "assume-role")
    return boto3.Session(botocore_session=botocore_session).client(
        "route53", region_name=region, config=config
    )


def _geoproximity(ps: dict[str, str]) -> dict[str, Any]:
    """Route 53's GeoProximityLocation from the aws/geoproximity-* properties."""
    location: dict[str, Any] = {}
    if "aws/geoproximity-region" in ps:
        location["AWSRegion"] = ps["aws/geoproximity-region"]
    if "aws/geoproximity-local-zone-group" in ps:
        location["LocalZoneGroup"] = ps["aws/geoproximity-local-zone-group"]
    if "aws/geoproximity-coordinates" in ps:
        lat, lon = (p.strip() for p in ps["aws/geoproximity-coordinates"].split(",", 1))
        location["Coordinates"] = {"Latitude": lat, "Longitude": lon}
    if "aws/geoproximity-bias" in ps:
        location["Bias"] = int(ps["aws/geoproximity-bias"])
    return location


def _comparable(rrset: dict[str, Any]) -> dict[str, Any]:
    """A record set with trailing dots dropped (Route 53 treats names with and without one alike)."""
    out = dict(rrset)
    out["Name"] = str(rrset.get("Name", "")).rstrip(".")
    if "AliasTarget" in rrset:
        out["AliasTarget"] = {
            **rrset["AliasTarget"],
            "DNSName": str(rrset["AliasTarget"]["DNSName"]).rstrip("."),
        }
    if "ResourceRecords" in rrset:
        out["ResourceRecords"] = [{"Value": str(r["Value"]).rstrip(".")} for r in rrset["ResourceRecords"]]
    return out


def _parse_tags(items: list[str]) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            tags[key.strip()] = value.strip() if sep else None
    return tags


class Route53Provider(Provider):
    name = "route53"

    def __init__(
        self,
        domain_filter: DomainFilter | None = None,
        zone_type: str = "",
        zone_ids: list[str] | None = None,
        rate_limit: float = 5.0,
        evaluate_target_health: bool = True,
        prefer_cname: bool = False,
        max_retries: int = 6,
        region: str | None = None,
        client: Any = None,
        batch_cost: int = MAX_BATCH_COST,
        zone_page_size: int = 100,
        match_parent: bool = False,
        zone_tags: list[str] | None = None,
        batch_changes: int = 1000,
        batch_chars: int = MAX_BATCH_CHARS,
    ) -> None:
        super().__init__()
        if zone_type not in ("", "public", "private"):
            raise ProviderError(f"--aws-zone-type: expected public or private, found {zone_type!r}")
        self.filter = domain_filter or DomainFilter()
        self.zone_type = zone_type
        self.zone_ids = {clean_zone_id(z) for z in (zone_ids or []) if z}
        self.bucket = TokenBucket(rate_limit)
        self.evaluate_target_health = evaluate_target_health
        self.prefer_cname = prefer_cname
        self.max_retries = max_retries
        self.batch_cost = batch_cost
        self.batch_changes = max(1, batch_changes)
        self.batch_chars = batch_chars
        self.zone_page_size = zone_page_size
        self.match_parent = match_parent
        self.zone_tags = _parse_tags(zone_tags or [])
        self.throttled = 0
        self.client = client or boto3.client(
            "route53",
            region_name=region or "us-east-1",
            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=4),
        )
        self._zones: list[Zone] | None = None
        # record sets per zone as kumo believes them (last full read, plus its own changes), to tell
        # additions and deletions made by hand from GetHostedZone's ResourceRecordSetCount
        self._counts: dict[str, int] = {}
        # the raw record sets last seen that kumo could not rebuild exactly from their endpoint, so a
        # DELETE repeats exactly what Route 53 holds (the rest are rebuilt: 40,000 dicts less at 10k)
        self._raw: dict[EndpointKey, dict[str, Any]] = {}
        self.on_call: Callable[[str], None] | None = None

    # -- calls ------------------------------------------------------------------------------------

    async def _call(self, op: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            await self.bucket.acquire()
            self.calls += 1
            if self.on_call:
                self.on_call(op)
            try:
                return await asyncio.to_thread(getattr(self.client, op), **kwargs)
            except ClientError as exc:
                if is_throttle(exc) and attempt < self.max_retries:
                    self.throttled += 1
                    await asyncio.sleep(backoff_delay(attempt))
                    attempt += 1
                    continue
                raise
            except BotoCoreError as exc:
                if attempt < self.max_retries:
                    await asyncio.sleep(backoff_delay(attempt))
                    attempt += 1
                    continue
                raise ProviderError(f"route53 {op}: {exc}") from exc

    # -- zones ------------------------------------------------------------------------------------

    async def zones(self, refresh: bool = False) -> list[Zone]:
        if self._zones is not None and not refresh:
            return self._zones
        zones: list[Zone] = []
        marker: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MaxItems": str(self.zone_page_size)}
            if marker:
                kwargs["Marker"] = marker
            try:
                page = await self._call("list_hosted_zones", **kwargs)
            except ClientError as exc:
                raise ProviderError(f"route53: listing hosted zones failed: {exc}") from exc
            for hz in page.get("HostedZones", []):
                zone = Zone(
                    clean_zone_id(hz["Id"]),
                    normalize_name(hz["Name"]),
                    bool(hz.get("Config", {}).get("PrivateZone")),
                )
                if self.zone_ids and zone.id not in self.zone_ids:
                    continue
                if (self.zone_type == "public" and zone.private) or (
                    self.zone_type == "private" and not zone.private
                ):
                    continue
                if not self.filter.match_zone(zone.name, self.match_parent):
                    continue
                zones.append(zone)
            if not page.get("IsTruncated"):
                break
            marker = page.get("NextMarker")
        if self.zone_tags:
            zones = await self._with_tags(zones)
        self._zones = zones
        return zones

    async def _with_tags(self, zones: list[Zone]) -> list[Zone]:
        """--aws-zone-tags: keep zones that carry every tag (``key=value``, or ``key`` for any value)."""
        kept: list[Zone] = []
        for start in range(0, len(zones), 10):  # ListTagsForResources takes at most 10 ids
            chunk = zones[start : start + 10]
            try:
                page = await self._call(
                    "list_tags_for_resources", ResourceType="hostedzone", ResourceIds=[z.id for z in chunk]
                )
            except ClientError as exc:
                raise ProviderError(f"route53: reading hosted zone tags failed: {exc}") from exc
            tags_by_id = {
                clean_zone_id(str(item.get("ResourceId", ""))): {
                    str(t["Key"]): str(t.get("Value", "")) for t in item.get("Tags", [])
                }
                for item in page.get("ResourceTagSets", [])
            }
            for zone in chunk:
                tags = tags_by_id.get(zone.id, {})
                if all(k in tags and (v is None or tags[k] == v) for k, v in self.zone_tags.items()):
                    kept.append(zone)
        return kept

    async def prepare(self) -> None:
        await self.zones()

    def domain_filter(self) -> DomainFilter:
        if self._zones is None:
            return self.filter
        names = [z.name for z in self._zones]
        return DomainFilter.of(names, list(self.filter.exclude)) if names else self.filter

    def zone_for(self, name: str, zones: list[Zone]) -> Zone | None:
        best: Zone | None = None
        for zone in zones:
            if (name == zone.name or name.endswith("." + zone.name)) and (
                best is None or len(zone.name) > len(best.name)
            ):
                best = zone
        return best

    # -- records ----------------------------------------------------------------------------------

    async def records(self) -> list[Endpoint]:
        return [ep async for page in self.record_pages() for ep in page]

    async def record_pages(self) -> AsyncIterator[list[Endpoint]]:
        zones = await self.zones(refresh=True)
        raw: dict[EndpointKey, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        for zone in zones:
            kwargs: dict[str, Any] = {"HostedZoneId": zone.id, "MaxItems": PAGE_SIZE}
            counts[zone.id] = 0
            while True:
                try:
                    page = await self._call("list_resource_record_sets", **kwargs)
                except ClientError as exc:
                    raise ProviderError(
                        f"route53: listing records of zone {zone.name} failed: {exc}"
                    ) from exc
                out: list[Endpoint] = []
                for rrset in page.get("ResourceRecordSets", []):
                    counts[zone.id] += 1
                    ep = self._to_endpoint(rrset)
                    if ep is not None:
                        out.append(ep)
                        if _comparable(self._rrset(ep, zone, for_delete=False)) != _comparable(rrset):
                            raw[ep.key] = rrset  # kept only when it cannot be rebuilt exactly
                yield out
                if not page.get("IsTruncated"):
                    break
                kwargs["StartRecordName"] = page["NextRecordName"]
                kwargs["StartRecordType"] = page["NextRecordType"]
                if page.get("NextRecordIdentifier"):
                    kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
                else:
                    kwargs.pop("StartRecordIdentifier", None)
        # only a read that got every page replaces what the last one learnt
        self._raw = raw
        self._counts = counts

    async def drifted(self) -> bool | None:
        """One GetHostedZone per zone: a record set count other than kumo's own means records were
        added or deleted by hand (an edit in place keeps the count; the full resync finds those)."""
        if not self._zones or not self._counts:
            return None
        for zone in self._zones:
            try:
                got = await self._call("get_hosted_zone", Id=zone.id)
            except ClientError as exc:
                raise ProviderError(f"route53: reading hosted zone {zone.name} failed: {exc}") from exc
            count = got.get("HostedZone", {}).get("ResourceRecordSetCount")
            if count is not None and int(count) != self._counts.get(zone.id):
                log.info(
                    "zone %s holds %s record sets, kumo expected %s: re-reading it",
                    zone.name,
                    count,
                    self._counts.get(zone.id),
                )
                return True
        return False

    def _to_endpoint(self, rrset: dict[str, Any]) -> Endpoint | None:
        rtype = rrset["Type"]
        if rtype not in SUPPORTED:
            return None
        name = _wildcard_unescape(rrset["Name"])
        ttl = int(rrset.get("TTL") or 0)
        ps: dict[str, str] = {}
        if rrset.get("AliasTarget"):
            alias = rrset["AliasTarget"]
            target = str(alias["DNSName"]).rstrip(".")
            ps[PS_EVALUATE_TARGET_HEALTH] = "true" if alias.get("EvaluateTargetHealth") else "false"
            ps[PS_ALIAS] = "true"
            zone_id = clean_zone_id(str(alias.get("HostedZoneId", "")))
            if zone_id and zone_id != canonical_hosted_zone(target):
                ps[PS_TARGET_HOSTED_ZONE] = zone_id
            ep = Endpoint(name, (target,), rtype, ttl or DEFAULT_TTL, provider_specific=ps)
        else:
            values = tuple(str(r["Value"]) for r in rrset.get("ResourceRecords", []))
            if rtype == RECORD_CNAME:
                ps[PS_ALIAS] = "false"
            ep = Endpoint(name, values, rtype, ttl, provider_specific=ps)
        if rrset.get("SetIdentifier"):
            ep.set_identifier = rrset["SetIdentifier"]
            for prop, field_name in _ROUTING.items():
                if field_name in rrset:
                    ep.provider_specific[prop] = str(rrset[field_name])
            geo = rrset.get("GeoLocation") or {}
            for prop, key in (
                ("aws/geolocation-continent-code", "ContinentCode"),
                ("aws/geolocation-country-code", "CountryCode"),
                ("aws/geolocation-subdivision-code", "SubdivisionCode"),
            ):
                if key in geo:
                    ep.provider_specific[prop] = str(geo[key])
            if rrset.get("MultiValueAnswer"):
                ep.provider_specific["aws/multi-value-answer"] = ""
            prox = rrset.get("GeoProximityLocation") or {}
            if prox.get("AWSRegion"):
                ep.provider_specific["aws/geoproximity-region"] = str(prox["AWSRegion"])
            if prox.get("LocalZoneGroup"):
                ep.provider_specific["aws/geoproximity-local-zone-group"] = str(prox["LocalZoneGroup"])
            if prox.get("Coordinates"):
                c = prox["Coordinates"]
                ep.provider_specific["aws/geoproximity-coordinates"] = f"{c['Latitude']},{c['Longitude']}"
            if "Bias" in prox:
                ep.provider_specific["aws/geoproximity-bias"] = str(prox["Bias"])
        elif rrset.get("HealthCheckId"):
            ep.provider_specific["aws/health-check-id"] = str(rrset["HealthCheckId"])
        return ep

    # -- desired-side adjustment -----------------------------------------------------------------

    def adjust_endpoints(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        """external-dns AdjustEndpoints: CNAMEs to AWS targets become an A ALIAS plus an AAAA ALIAS."""
        return adjust_for_route53(endpoints, self.prefer_cname, self.evaluate_target_health)

    # -- changes ----------------------------------------------------------------------------------

    def _rrset(self, ep: Endpoint, zone: Zone, for_delete: bool) -> dict[str, Any]:
        if for_delete and ep.key in self._raw:
            return self._raw[ep.key]
        rrset: dict[str, Any] = {"Name": ep.dns_name + ".", "Type": ep.record_type}
        if ep.is_alias and ep.record_type in (RECORD_A, RECORD_AAAA, RECORD_CNAME):
            target = ep.targets[0] if ep.targets else ""
            zone_id = ep.provider_specific.get(PS_TARGET_HOSTED_ZONE, "")
            if zone_id == "same-zone" or not zone_id:
                zone_id = canonical_hosted_zone(target) or zone.id
            rrset["AliasTarget"] = {
                "HostedZoneId": clean_zone_id(zone_id),
                "DNSName": target,
                "EvaluateTargetHealth": ep.provider_specific.get(
                    PS_EVALUATE_TARGET_HEALTH, "true" if self.evaluate_target_health else "false"
                )
                == "true",
            }
        else:
            rrset["TTL"] = ep.record_ttl or DEFAULT_TTL
            rrset["ResourceRecords"] = [{"Value": t} for t in ep.targets]
        if ep.set_identifier:
            rrset["SetIdentifier"] = ep.set_identifier
            ps = ep.provider_specific
            if "aws/weight" in ps:
                rrset["Weight"] = int(ps["aws/weight"])
            elif "aws/region" in ps:
                rrset["Region"] = ps["aws/region"]
            elif "aws/failover" in ps:
                rrset["Failover"] = ps["aws/failover"].upper()
            elif "aws/multi-value-answer" in ps:
                rrset["MultiValueAnswer"] = True
            elif any(k.startswith("aws/geoproximity-") for k in ps):
                rrset["GeoProximityLocation"] = _geoproximity(ps)
            else:
                geo = {
                    key: ps[prop]
                    for prop, key in (
                        ("aws/geolocation-continent-code", "ContinentCode"),
                        ("aws/geolocation-country-code", "CountryCode"),
                        ("aws/geolocation-subdivision-code", "SubdivisionCode"),
                    )
                    if prop in ps
                }
                if geo:
                    rrset["GeoLocation"] = geo
        if "aws/health-check-id" in ep.provider_specific:
            rrset["HealthCheckId"] = ep.provider_specific["aws/health-check-id"]
        return rrset

    def _change(self, action: str, ep: Endpoint, zone: Zone) -> _Change:
        rrset = self._rrset(ep, zone, for_delete=action == "DELETE")
        values = rrset.get("ResourceRecords") or [{"Value": rrset.get("AliasTarget", {}).get("DNSName", "")}]
        chars = sum(len(str(v.get("Value", ""))) for v in values)
        factor = 2 if action == "UPSERT" else 1
        return _Change(
            group_key(ep),
            action,
            ep,
            functools.partial(self._rrset, ep, zone, action == "DELETE"),
            len(values) * factor,
            chars * factor,
        )

    @staticmethod
    def _requires_delete_create(old: Endpoint, new: Endpoint) -> bool:
        if old.record_type != new.record_type or old.set_identifier != new.set_identifier:
            return True
        if old.record_type == RECORD_A and old.is_alias != new.is_alias:
            return True
        return any(
            (k in old.provider_specific) != (k in new.provider_specific)
            for k in _ROUTING
            if k != "aws/health-check-id"
        )

    def _zone_changes(
        self, changes: Changes, zones: list[Zone]
    ) -> tuple[dict[str, list[_Change]], ApplyResult]:
        result = ApplyResult()
        by_zone: dict[str, list[_Change]] = {}
        ordered: list[tuple[str, Endpoint]] = []
        for ep in changes.delete:
            ordered.append(("DELETE", ep))
        for old, new in zip(changes.update_old, changes.update_new, strict=True):
            if self._requires_delete_create(old, new):
                ordered.append(("DELETE", old))
                ordered.append(("CREATE", new))
            else:
                ordered.append(("UPSERT", new))
        for ep in changes.create:
            ordered.append(("CREATE", ep))
        for action, ep in ordered:
            zone = self.zone_for(ep.dns_name, zones)
            if zone is None:
                result.failed[group_key(ep)] = (
                    f"{ep.dns_name}: no hosted zone matches (check --domain-filter)"
                )
                continue
            by_zone.setdefault(zone.id, []).append(self._change(action, ep, zone))
        for zone_id, zchanges in by_zone.items():
            by_zone[zone_id] = [c for c in zchanges if c.group not in result.failed]
        return by_zone, result

    def batches(self, changes: list[_Change]) -> list[_Batch]:
        """Pack change groups into batches under the cost limits, never splitting a group."""
        groups: dict[str, list[_Change]] = {}
        for change in changes:
            groups.setdefault(change.group, []).append(change)
        out: list[_Batch] = []
        current = _Batch()
        cost = chars = 0
        for group in groups.values():
            gcost = sum(c.cost for c in group)
            gchars = sum(c.chars for c in group)
            if current.changes and (
                cost + gcost > self.batch_cost
                or chars + gchars > self.batch_chars
                or len(current.changes) + len(group) > self.batch_changes
            ):
                out.append(current)
                current, cost, chars = _Batch(), 0, 0
            current.changes.extend(group)
            cost += gcost
            chars += gchars
        if current.changes:
            out.append(current)
        return out

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        try:
            zones = await self.zones()
        except ProviderError as exc:
            return ApplyResult(
                {group_key(ep): str(exc) for ep in [*changes.create, *changes.update_new, *changes.delete]}
            )
        by_zone, result = self._zone_changes(changes, zones)
        for zone_id, zchanges in by_zone.items():
            for batch in self.batches(zchanges):
                result.merge(await self._submit(zone_id, batch))
            if zone_id in self._counts:
                self._counts[zone_id] += sum(
                    {"CREATE": 1, "DELETE": -1}.get(c.action, 0)
                    for c in zchanges
                    if c.group not in result.failed
                )
        self._remember(changes, result)
        return result

    async def _submit(self, zone_id: str, batch: _Batch) -> ApplyResult:
        try:
            await self._call(
                "change_resource_record_sets",
                HostedZoneId=zone_id,
                ChangeBatch={"Changes": [c.body for c in batch.changes]},
            )
            return ApplyResult()
        except ClientError as exc:
            message = str(exc.response.get("Error", {}).get("Message") or exc)
            groups = batch.groups
            if is_throttle(exc) or len(groups) == 1:
                return ApplyResult({g: message for g in groups})
            # bisect: the bad group ends up alone, everything else is applied
            half = len(groups) // 2
            left = set(groups[:half])
            result = await self._submit(zone_id, _Batch([c for c in batch.changes if c.group in left]))
            result.merge(
                await self._submit(zone_id, _Batch([c for c in batch.changes if c.group not in left]))
            )
            return result
        except ProviderError as exc:
            return ApplyResult({g: str(exc) for g in batch.groups})

    def _remember(self, changes: Changes, result: ApplyResult) -> None:
        """Forget the raw copy of what kumo deleted or replaced: what it writes, it can rebuild."""
        for ep in [*changes.delete, *changes.update_old, *changes.create, *changes.update_new]:
            if group_key(ep) not in result.failed:
                self._raw.pop(ep.key, None)
