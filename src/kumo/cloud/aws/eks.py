"""EKS: the cluster (the spec's version, private + public subnets) and its managed node group."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped, unused-ignore]

from kumo.cloud.aws.context import Action, Ctx, Step, error_code
from kumo.cloud.aws.waits import wait_for
from kumo.errors import ProviderError
from kumo.plan import CloudResource

# The Kubernetes versions EKS offers (standard and extended support), as of December 2026. kumo asks
# EKS (DescribeClusterVersions) first and uses this table only where that call is not available
# (moto does not implement it). Update it when EKS adds or retires a version.
EKS_VERSIONS = ("1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35")


def offered_versions(ctx: Ctx) -> list[str]:
    try:
        found = ctx.client("eks").describe_cluster_versions().get("clusterVersions", [])
        versions = [str(v["clusterVersion"]) for v in found if v.get("clusterVersion")]
        if versions:
            return versions
    except (ClientError, AttributeError):
        pass
    except Exception as exc:  # moto answers an unknown operation with a non-AWS error
        if "clusterVersions" in str(exc):
            raise
    return list(EKS_VERSIONS)


def check_version(ctx: Ctx) -> None:
    assert ctx.spec.cluster is not None
    version = ctx.spec.cluster.version
    offered = offered_versions(ctx)
    if version not in offered:
        raise ctx.located(
            ("cluster", "version"),
            f"EKS does not offer Kubernetes {version}; expected one of {', '.join(offered)}",
        )


class ClusterReconciler:
    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource
        self.name = resource.name
        self.role = str(resource.properties["roleName"])

    def _describe(self, ctx: Ctx) -> dict[str, Any] | None:
        try:
            return dict(ctx.client("eks").describe_cluster(name=self.name)["cluster"])
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def _remember(self, ctx: Ctx, cluster: dict[str, Any]) -> None:
        ctx.live.cluster_arn = cluster.get("arn")
        ctx.live.cluster_endpoint = cluster.get("endpoint")
        ctx.live.cluster_ca = (cluster.get("certificateAuthority") or {}).get("data")
        ctx.live.cluster_status = cluster.get("status")
        ctx.live.oidc_issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")

    def read(self, ctx: Ctx) -> Step:
        cluster = self._describe(ctx)
        if cluster is None:
            return Step(self.resource.type, self.name, "create", self.resource.summary)
        if not ctx.owned(cluster.get("tags")):
            raise ctx.not_ours("EKS cluster", self.name, ("cluster", "name"))
        self._remember(ctx, cluster)
        wanted = str(self.resource.properties["version"])
        changes = []
        if cluster.get("version") != wanted:
            changes.append(f"version {cluster.get('version')} -> {wanted}")
        status = str(cluster.get("status"))
        if status == "CREATING":
            changes.append("wait until ACTIVE")
        action: Action = "update" if changes else "unchanged"
        return Step(
            self.resource.type, self.name, action, self.resource.summary, changes, status, cluster.get("arn")
        )

    def apply(self, ctx: Ctx, step: Step) -> None:
        eks = ctx.client("eks")
        if step.action == "create":
            subnets = ctx.live.private_subnets + ctx.live.public_subnets
            role_arn = ctx.live.roles[self.role]
            for attempt in range(6):
                try:
                    eks.create_cluster(
                        name=self.name,
                        version=str(self.resource.properties["version"]),
                        roleArn=role_arn,
                        resourcesVpcConfig={
                            "subnetIds": subnets,
                            "endpointPublicAccess": True,
                            "endpointPrivateAccess": True,
                        },
                        tags=ctx.tags,
                    )
                    break
                except ClientError as exc:
                    # A role made seconds ago may not be assumable yet (IAM is eventually consistent).
                    if (
                        error_code(exc) != "InvalidParameterException"
                        or "assume" not in str(exc)
                        or attempt == 5
                    ):
                        raise
                    time.sleep(5 * (attempt + 1))
        for change in step.changes:
            if change.startswith("version "):
                eks.update_cluster_version(name=self.name, version=str(self.resource.properties["version"]))
        self.wait_active(ctx)

    def wait_active(self, ctx: Ctx) -> None:
        def state() -> str:
            cluster = self._describe(ctx)
            if cluster is None:
                raise ProviderError(f"EKS cluster {self.name} disappeared while kumo waited for it")
            self._remember(ctx, cluster)
            return str(cluster.get("status"))

        wait_for(
            ctx, f"EKS cluster {self.name}", state, {"ACTIVE"}, {"FAILED"}, "10-15 min", ctx.waits.cluster
        )

    def delete(self, ctx: Ctx) -> bool:
        cluster = self._describe(ctx)
        if cluster is None or not ctx.owned(cluster.get("tags")):
            return False
        if cluster.get("status") != "DELETING":
            ctx.client("eks").delete_cluster(name=self.name)

        def state() -> str:
            found = self._describe(ctx)
            return "DELETED" if found is None else str(found.get("status"))

        wait_for(
            ctx, f"EKS cluster {self.name}", state, {"DELETED"}, {"FAILED"}, "5-10 min", ctx.waits.delete
        )
        return True


class NodegroupReconciler:
    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource
        self.name = resource.name
        self.cluster = str(resource.properties["clusterName"])
        self.role = str(resource.properties["nodeRole"])

    def _describe(self, ctx: Ctx) -> dict[str, Any] | None:
        try:
            return dict(
                ctx.client("eks").describe_nodegroup(clusterName=self.cluster, nodegroupName=self.name)[
                    "nodegroup"
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def _scaling(self) -> dict[str, int]:
        scaling = self.resource.properties["scaling"]
        return {"minSize": scaling["min"], "maxSize": scaling["max"], "desiredSize": scaling["desired"]}

    def read(self, ctx: Ctx) -> Step:
        group = self._describe(ctx) if ctx.live.cluster_arn else None
        if group is None:
            return Step(self.resource.type, self.name, "create", self.resource.summary)
        if not ctx.owned(group.get("tags")):
            raise ctx.not_ours("EKS node group", self.name, ("cluster", "name"))
        wanted_types = list(self.resource.properties["instanceTypes"])
        if list(group.get("instanceTypes") or []) != wanted_types:
            raise ctx.located(
                ("cluster", "nodes", "instanceType"),
                f"node group {self.name} runs {', '.join(group.get('instanceTypes') or [])}; EKS cannot "
                f"change the instance type of a node group in place, found {', '.join(wanted_types)}",
                "Keep the instance type, or `kumo cloud destroy` and apply again.",
            )
        current = group.get("scalingConfig") or {}
        changes = [
            f"{key} {current.get(key)} -> {value}"
            for key, value in self._scaling().items()
            if current.get(key) != value
        ]
        status = str(group.get("status"))
        if status == "CREATING":
            changes.append("wait until ACTIVE")
        action: Action = "update" if changes else "unchanged"
        return Step(
            self.resource.type,
            self.name,
            action,
            self.resource.summary,
            changes,
            status,
            group.get("nodegroupArn"),
        )

    def apply(self, ctx: Ctx, step: Step) -> None:
        eks = ctx.client("eks")
        if step.action == "create":
            eks.create_nodegroup(
                clusterName=self.cluster,
                nodegroupName=self.name,
                scalingConfig=self._scaling(),
                subnets=ctx.live.private_subnets,
                instanceTypes=list(self.resource.properties["instanceTypes"]),
                nodeRole=ctx.live.roles[self.role],
                tags=ctx.tags,
            )
        elif any(not c.startswith("wait") for c in step.changes):
            eks.update_nodegroup_config(
                clusterName=self.cluster, nodegroupName=self.name, scalingConfig=self._scaling()
            )

        def state() -> str:
            group = self._describe(ctx)
            return "MISSING" if group is None else str(group.get("status"))

        wait_for(
            ctx,
            f"node group {self.name}",
            state,
            {"ACTIVE"},
            {"CREATE_FAILED", "DEGRADED", "MISSING"},
            "3-5 min",
            ctx.waits.nodegroup,
        )

    def delete(self, ctx: Ctx) -> bool:
        group = self._describe(ctx)
        if group is None or not ctx.owned(group.get("tags")):
            return False
        if group.get("status") != "DELETING":
            ctx.client("eks").delete_nodegroup(clusterName=self.cluster, nodegroupName=self.name)

        def state() -> str:
            found = self._describe(ctx)
            return "DELETED" if found is None else str(found.get("status"))

        wait_for(
            ctx, f"node group {self.name}", state, {"DELETED"}, {"DELETE_FAILED"}, "3-5 min", ctx.waits.delete
        )
        return True
