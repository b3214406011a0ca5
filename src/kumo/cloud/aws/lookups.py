"""What kumo looks up and never creates: the Route 53 zone and the network (as the seed system does).

The network is found by VPC id, by the VPC's tags (default ``Name=<cluster name>``) or by subnet
ids. A subnet is public when it carries ``kubernetes.io/role/elb=1`` or its route table sends
``0.0.0.0/0`` to an internet gateway; the others are private. The seed's gotcha ("without public
subnets no external load balancer is created") becomes a clear error naming the subnets, and
``--fix-subnet-tags`` adds the tags the load balancer controllers look for.
"""

from __future__ import annotations

from typing import Any

from kumo.cloud.aws.context import Ctx, Loc, Step, tag_dict
from kumo.plan import CloudResource

ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"


class ZoneLookup:
    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource

    def read(self, ctx: Ctx) -> Step:
        assert ctx.spec.dns is not None
        name = ctx.spec.dns.zone
        private = ctx.spec.dns.zone_type == "private"
        kind = "private" if private else "public"
        others = []
        route53 = ctx.client("route53")
        for zone in route53.list_hosted_zones_by_name(DNSName=name).get("HostedZones", []):
            if zone["Name"].rstrip(".").lower() != name:
                continue
            if bool(zone.get("Config", {}).get("PrivateZone")) == private:
                ctx.live.zone_id = str(zone["Id"]).rsplit("/", 1)[-1]
                return Step(self.resource.type, name, "lookup", f"{kind} zone found", id=ctx.live.zone_id)
            others.append(zone)
        found = " (there is one of the other type; set dns.zoneType)" if others else ""
        raise ctx.located(
            ("dns", "zone"),
            f"no {kind} Route 53 hosted zone {name} in this account{found}",
            "kumo looks the zone up and never creates it: create it (or delegate it) first, or fix dns.zone.",
        )


class NetworkLookup:
    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource

    def _loc(self, ctx: Ctx) -> Loc:
        assert ctx.spec.cluster is not None
        network = ctx.spec.cluster.network
        if network.private_subnets or network.public_subnets:
            return ("cluster", "network", "privateSubnets")
        if network.vpc_id:
            return ("cluster", "network", "vpcId")
        if network.vpc_tags:
            return ("cluster", "network", "vpcTags")
        return ("cluster", "name")

    def _subnets(self, ctx: Ctx) -> list[dict[str, Any]]:
        assert ctx.spec.cluster is not None
        network = ctx.spec.cluster.network
        ec2 = ctx.client("ec2")
        if network.private_subnets or network.public_subnets:
            ids = [*network.private_subnets, *network.public_subnets]
            found = _all(ec2, "describe_subnets", "Subnets", Filters=[{"Name": "subnet-id", "Values": ids}])
            missing = sorted(set(ids) - {s["SubnetId"] for s in found})
            if missing:
                raise ctx.located(self._loc(ctx), f"no such subnets in {ctx.region}: {', '.join(missing)}")
            ctx.live.vpc_id = str(found[0]["VpcId"]) if found else None
            return found
        if network.vpc_id:
            filters = [{"Name": "vpc-id", "Values": [network.vpc_id]}]
            described = f"VPC {network.vpc_id}"
        else:
            tags = network.vpc_tags or {"Name": ctx.spec.cluster.name}
            filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
            described = "VPC tagged " + ", ".join(f"{k}={v}" for k, v in tags.items())
        vpcs = _all(ec2, "describe_vpcs", "Vpcs", Filters=filters)
        if not vpcs:
            raise ctx.located(
                self._loc(ctx),
                f"no {described} in {ctx.region}",
                "kumo looks the network up, as the seed does: create the VPC first, or set "
                "cluster.network (vpcId, vpcTags, or privateSubnets and publicSubnets).",
            )
        if len(vpcs) > 1:
            shown = ", ".join(v["VpcId"] for v in vpcs)
            raise ctx.located(self._loc(ctx), f"{len(vpcs)} VPCs match ({shown}); expected one", "Set vpcId.")
        ctx.live.vpc_id = str(vpcs[0]["VpcId"])
        return _all(
            ec2, "describe_subnets", "Subnets", Filters=[{"Name": "vpc-id", "Values": [ctx.live.vpc_id]}]
        )

    def _public_by_route(self, ctx: Ctx) -> set[str]:
        """Subnets whose route table (their own, else the VPC's main one) leads to an internet gateway."""
        tables = _all(
            ctx.client("ec2"),
            "describe_route_tables",
            "RouteTables",
            Filters=[{"Name": "vpc-id", "Values": [ctx.live.vpc_id or ""]}],
        )
        public: set[str] = set()
        main_public = False
        explicit: set[str] = set()
        for table in tables:
            to_igw = any(
                str(r.get("GatewayId", "")).startswith("igw-")
                and r.get("DestinationCidrBlock") == "0.0.0.0/0"
                for r in table.get("Routes", [])
            )
            for assoc in table.get("Associations", []):
                if assoc.get("Main"):
                    main_public = main_public or to_igw
                elif assoc.get("SubnetId"):
                    explicit.add(assoc["SubnetId"])
                    if to_igw:
                        public.add(assoc["SubnetId"])
        if main_public:
            public.add("*main*")
        return public | {f"!{s}" for s in explicit}

    def read(self, ctx: Ctx) -> Step:
        assert ctx.spec.cluster is not None
        network = ctx.spec.cluster.network
        subnets = self._subnets(ctx)
        loc = self._loc(ctx)
        explicit = bool(network.private_subnets or network.public_subnets)
        routes = set() if explicit else self._public_by_route(ctx)
        public: list[dict[str, Any]] = []
        private: list[dict[str, Any]] = []
        for subnet in subnets:
            sid = subnet["SubnetId"]
            tags = tag_dict(subnet.get("Tags"))
            if explicit:
                is_public = sid in network.public_subnets
            else:
                via_main = "*main*" in routes and f"!{sid}" not in routes
                is_public = tags.get(ELB_TAG) == "1" or sid in routes or via_main
            (public if is_public else private).append(subnet)
        ctx.live.private_subnets = [s["SubnetId"] for s in private]
        ctx.live.public_subnets = [s["SubnetId"] for s in public]
        zones = sorted({s["AvailabilityZone"] for s in private})
        if len(zones) < 2:
            where = zones[0] if zones else "none"
            raise ctx.located(
                loc,
                f"the private subnets ({', '.join(ctx.live.private_subnets) or 'none'}) are in one "
                f"availability zone only ({where}); EKS needs subnets in at least two",
                "Add a private subnet in a second availability zone.",
            )
        exposed = [
            (index, service.name)
            for index, service in enumerate(ctx.spec.services)
            if service.endpoint is not None and not service.endpoint.internal
        ]
        if exposed and not public:
            index, name = exposed[0]
            raise ctx.located(
                ("services", index, "endpoint", "expose"),
                f"service {name} needs an internet-facing load balancer, but the network has no public "
                f"subnets (subnets found: {', '.join(s['SubnetId'] for s in subnets) or 'none'}); "
                "without public subnets no external load balancer is created",
                "Add public subnets (a route to an internet gateway, tag kubernetes.io/role/elb=1), "
                "or set endpoint.internal: true.",
            )
        missing = {s["SubnetId"]: ELB_TAG for s in public if tag_dict(s.get("Tags")).get(ELB_TAG) != "1"} | {
            s["SubnetId"]: INTERNAL_ELB_TAG
            for s in private
            if tag_dict(s.get("Tags")).get(INTERNAL_ELB_TAG) != "1"
        }
        ctx.live.untagged_subnets = missing
        summary = f"{len(private)} private, {len(public)} public in {', '.join(zones)}"
        if missing and not ctx.fix_subnet_tags:
            listed = ", ".join(f"{sid} (needs {tag}=1)" for sid, tag in missing.items())
            raise ctx.located(
                loc,
                f"subnets lack the tags load balancers are placed by: {listed}; "
                "without them no load balancer is created for a Service",
                "Re-run with --fix-subnet-tags to add them, or tag the subnets yourself.",
            )
        if missing:
            changes = [f"tag {sid} {tag}=1" for sid, tag in missing.items()]
            return Step(
                self.resource.type,
                self.resource.name,
                "update",
                "add subnet tags",
                changes,
                id=ctx.live.vpc_id,
            )
        return Step(self.resource.type, self.resource.name, "lookup", summary, id=ctx.live.vpc_id)

    def apply(self, ctx: Ctx, step: Step) -> None:
        """Only with --fix-subnet-tags: tag the subnets that lack their role tag."""
        ec2 = ctx.client("ec2")
        for sid, tag in ctx.live.untagged_subnets.items():
            ec2.create_tags(Resources=[sid], Tags=[{"Key": tag, "Value": "1"}])
        ctx.live.untagged_subnets = {}


def _all(client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(op).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items
