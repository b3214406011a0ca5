"""IAM: the cluster and node roles (AWS managed policies), the OIDC provider, the DNS controller's
role (IRSA) and its Route 53 policy. The documents come from ``kumo.plan`` (one place builds them);
here the values known only after apply (the OIDC issuer, the zone id) are filled in."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped, unused-ignore]

from kumo.cloud.aws.context import Action, Ctx, Step, canonical, error_code, tag_dict, tag_list
from kumo.plan import KNOWN_AFTER_APPLY, CloudResource

# The SHA-1 thumbprint of the root CA that serves every oidc.eks.<region>.amazonaws.com issuer, as AWS
# documents it for EKS; IAM no longer checks thumbprints for these issuers, but the API wants one.
EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
OWNER_LOC = ("cluster", "name")


def resolve(ctx: Ctx, document: Any) -> Any:
    """The plan's document with what only the account knows filled in; None while something is
    still unknown (in a plan, before the cluster exists)."""
    text = json.dumps(document)
    issuer = ctx.live.issuer_host
    plan_issuer = f"oidc.eks.{ctx.region}.amazonaws.com/id/{KNOWN_AFTER_APPLY}"
    if plan_issuer in text:
        if issuer is None:
            return None
        text = text.replace(plan_issuer, issuer)
    if f"hostedzone/{KNOWN_AFTER_APPLY}" in text:
        if ctx.live.zone_id is None:
            return None
        text = text.replace(f"hostedzone/{KNOWN_AFTER_APPLY}", f"hostedzone/{ctx.live.zone_id}")
    return json.loads(text)


class RoleReconciler:
    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource
        self.name = resource.name

    def _get(self, ctx: Ctx) -> dict[str, Any] | None:
        try:
            return dict(ctx.client("iam").get_role(RoleName=self.name)["Role"])
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise

    def read(self, ctx: Ctx) -> Step:
        role = self._get(ctx)
        trust = resolve(ctx, self.resource.properties["assumeRolePolicy"])
        if role is None:
            return Step(self.resource.type, self.name, "create", self.resource.summary)
        tags = tag_dict(role.get("Tags"))
        if not tags:
            tags = tag_dict(ctx.client("iam").list_role_tags(RoleName=self.name).get("Tags"))
        if not ctx.owned(tags):
            raise ctx.not_ours("IAM role", self.name, OWNER_LOC)
        ctx.live.roles[self.name] = str(role["Arn"])
        changes = []
        if trust is not None and canonical(role["AssumeRolePolicyDocument"]) != canonical(trust):
            changes.append("assumeRolePolicy")
        wanted = self.resource.properties.get("managedPolicies", [])
        if wanted:
            attached = {
                p["PolicyArn"]
                for p in ctx.client("iam").list_attached_role_policies(RoleName=self.name)["AttachedPolicies"]
            }
            changes += [f"attach {arn}" for arn in wanted if arn not in attached]
        action: Action = "update" if changes else "unchanged"
        return Step(
            self.resource.type, self.name, action, self.resource.summary, changes, id=str(role["Arn"])
        )

    def apply(self, ctx: Ctx, step: Step) -> None:
        iam = ctx.client("iam")
        trust = resolve(ctx, self.resource.properties["assumeRolePolicy"])
        assert trust is not None, "apply runs after the resources the document depends on"
        if step.action == "create":
            role = iam.create_role(
                RoleName=self.name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=f"kumo: {self.resource.summary}",
                Tags=tag_list(ctx.tags),
            )["Role"]
            ctx.live.roles[self.name] = str(role["Arn"])
            changes = [f"attach {arn}" for arn in self.resource.properties.get("managedPolicies", [])]
        else:
            changes = step.changes
        for change in changes:
            if change == "assumeRolePolicy":
                iam.update_assume_role_policy(RoleName=self.name, PolicyDocument=json.dumps(trust))
            elif change.startswith("attach "):
                iam.attach_role_policy(RoleName=self.name, PolicyArn=change.removeprefix("attach "))

    def delete(self, ctx: Ctx) -> bool:
        role = self._get(ctx)
        if role is None:
            return False
        tags = tag_dict(ctx.client("iam").list_role_tags(RoleName=self.name).get("Tags"))
        if not ctx.owned(tags):
            return False
        iam = ctx.client("iam")
        for policy in iam.list_attached_role_policies(RoleName=self.name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=self.name, PolicyArn=policy["PolicyArn"])
        for name in iam.list_role_policies(RoleName=self.name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=self.name, PolicyName=name)
        # an instance profile EKS left on the node role would make DeleteRole fail with DeleteConflict
        for profile in iam.list_instance_profiles_for_role(RoleName=self.name)["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=self.name
            )
        iam.delete_role(RoleName=self.name)
        return True


class RolePolicyReconciler:
    """The DNS controller's inline Route 53 policy, scoped to the zone's ARN."""

    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource
        self.name = resource.name
        self.role = str(resource.properties["roleName"])

    def read(self, ctx: Ctx) -> Step:
        wanted = resolve(ctx, self.resource.properties["policyDocument"])
        try:
            current = ctx.client("iam").get_role_policy(RoleName=self.role, PolicyName=self.name)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return Step(self.resource.type, self.name, "create", self.resource.summary)
            raise
        if wanted is not None and canonical(current["PolicyDocument"]) != canonical(wanted):
            return Step(self.resource.type, self.name, "update", self.resource.summary, ["policyDocument"])
        return Step(self.resource.type, self.name, "unchanged", self.resource.summary)

    def apply(self, ctx: Ctx, step: Step) -> None:
        wanted = resolve(ctx, self.resource.properties["policyDocument"])
        assert wanted is not None
        ctx.client("iam").put_role_policy(
            RoleName=self.role, PolicyName=self.name, PolicyDocument=json.dumps(wanted)
        )

    def delete(self, ctx: Ctx) -> bool:
        return False  # deleted with its role


class OidcReconciler:
    """The IAM OIDC provider for the cluster's issuer: what lets service accounts assume roles."""

    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource
        self.name = resource.name

    def _find(self, ctx: Ctx) -> str | None:
        host = ctx.live.issuer_host
        if host is None:
            return None
        for item in ctx.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if str(item["Arn"]).endswith(f":oidc-provider/{host}"):
                return str(item["Arn"])
        return None

    def read(self, ctx: Ctx) -> Step:
        arn = self._find(ctx)
        if arn is None:
            why = (
                self.resource.summary
                if ctx.live.issuer_host
                else "for the cluster's issuer (known after apply)"
            )
            return Step(self.resource.type, self.name, "create", why)
        found = ctx.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        if not ctx.owned(tag_dict(found.get("Tags"))):
            raise ctx.not_ours("IAM OIDC provider", arn, OWNER_LOC)
        ctx.live.oidc_provider_arn = arn
        wanted = list(self.resource.properties["clientIds"])
        missing = [c for c in wanted if c not in found.get("ClientIDList", [])]
        if missing:
            return Step(
                self.resource.type,
                self.name,
                "update",
                self.resource.summary,
                [f"add client id {c}" for c in missing],
                id=arn,
            )
        return Step(self.resource.type, self.name, "unchanged", self.resource.summary, id=arn)

    def apply(self, ctx: Ctx, step: Step) -> None:
        iam = ctx.client("iam")
        if step.action == "create":
            assert ctx.live.oidc_issuer is not None
            ctx.live.oidc_provider_arn = str(
                iam.create_open_id_connect_provider(
                    Url=ctx.live.oidc_issuer,
                    ClientIDList=list(self.resource.properties["clientIds"]),
                    ThumbprintList=[EKS_OIDC_THUMBPRINT],
                    Tags=tag_list(ctx.tags),
                )["OpenIDConnectProviderArn"]
            )
            return
        for change in step.changes:
            iam.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=step.id, ClientID=change.removeprefix("add client id ")
            )

    def delete(self, ctx: Ctx) -> bool:
        arn = self._find(ctx)
        if arn is None:
            return False
        iam = ctx.client("iam")
        if not ctx.owned(
            tag_dict(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn).get("Tags"))
        ):
            return False
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        return True
