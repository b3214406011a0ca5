"""plan / apply / status / destroy over the reconcilers, in the order ``kumo.plan`` lists them.

- ``plan`` reads only. It runs the checks of bad input first (credentials, region, account,
  Kubernetes version, certificate references, zone, network), so ``apply`` fails before any write.
- ``apply`` first plans everything (all the checks), then walks the resources in dependency order:
  read current, diff, write only what differs. Nothing is written when nothing differs, and after a
  failure or Ctrl-C a second ``apply`` carries on where the first stopped.
- ``destroy`` walks them backwards and deletes only what carries kumo's tags; first it looks for
  load balancers the cluster created for its Services (which would block deleting the network and
  keep costing money) and deletes them only when asked to.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
)

from kumo.cloud.aws.certificate import (
    CertificateReconciler,
    check_certificate_refs,
    delete_app_certificates,
    find_certificate,
)
from kumo.cloud.aws.context import Ctx, Reporter, Step, Waits, error_code, tag_dict
from kumo.cloud.aws.eks import ClusterReconciler, NodegroupReconciler, check_version
from kumo.cloud.aws.iam import OidcReconciler, RolePolicyReconciler, RoleReconciler
from kumo.cloud.aws.kubeconfig import default_kubeconfig, write_context
from kumo.cloud.aws.lookups import NetworkLookup, ZoneLookup
from kumo.errors import KumoError, ProviderError, UsageError
from kumo.plan import aws_resources
from kumo.render import CloudFacts, dns_role_arn
from kumo.spec import Spec, TlsRef, load_spec

CREDENTIALS_HINT = (
    "Set AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY; see docs/cloud.md."
)


class Reconciler(Protocol):
    def read(self, ctx: Ctx) -> Step: ...

    def apply(self, ctx: Ctx, step: Step) -> None: ...


_BY_TYPE: dict[str, Any] = {
    "AWS::Route53::HostedZone": ZoneLookup,
    "AWS::EC2::VPC": NetworkLookup,
    "AWS::EC2::Subnet": NetworkLookup,
    "AWS::IAM::Role": RoleReconciler,
    "AWS::EKS::Cluster": ClusterReconciler,
    "AWS::EKS::Nodegroup": NodegroupReconciler,
    "AWS::IAM::OIDCProvider": OidcReconciler,
    "AWS::IAM::RolePolicy": RolePolicyReconciler,
    "AWS::CertificateManager::Certificate": CertificateReconciler,
}


@dataclass
class CloudOptions:
    """How to reach the account and where the cluster's kubeconfig context goes."""

    env: str | None = None
    session: Any = None  # a boto3 Session; default: the environment's (AWS_PROFILE, AWS_ENDPOINT_URL ...)
    fix_subnet_tags: bool = False
    kubeconfig: str | None = None
    kubeconfig_endpoint: str | None = None
    waits: Waits = field(default_factory=Waits)
    reporter: Reporter = field(default_factory=Reporter)


@dataclass
class Outputs:
    """What the deploy needs from the cloud step, and what ``status`` shows."""

    account_id: str
    region: str
    cluster: str | None = None
    cluster_arn: str | None = None
    cluster_endpoint: str | None = None
    oidc_issuer: str | None = None
    dns_role_arn: str | None = None
    zone_id: str | None = None
    certificate_arns: dict[str, str] = field(default_factory=dict)
    kubeconfig: str | None = None
    context: str | None = None

    def facts(self) -> CloudFacts:
        return CloudFacts(account_id=self.account_id, certificate_arns=dict(self.certificate_arns))

    def as_dict(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "region": self.region,
            "cluster": self.cluster,
            "clusterArn": self.cluster_arn,
            "clusterEndpoint": self.cluster_endpoint,
            "oidcIssuer": self.oidc_issuer,
            "dnsRoleArn": self.dns_role_arn,
            "zoneId": self.zone_id,
            "certificateArns": dict(self.certificate_arns),
            "kubeconfig": self.kubeconfig,
            "context": self.context,
        }


@dataclass
class CloudResult:
    app: str
    steps: list[Step]
    outputs: Outputs
    writes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": "kumo.dev/cloud/v1",
            "app": self.app,
            "resources": [s.as_dict() for s in self.steps],
            "outputs": self.outputs.as_dict(),
        }


def _open(path: str | Path, options: CloudOptions) -> Ctx:
    path = Path(path)
    spec = load_spec(path, env=options.env)
    return context(spec, path, options)


def context(spec: Spec, path: Path, options: CloudOptions) -> Ctx:
    """Check what can be checked before any call: the target, the region, the credentials."""
    if spec.target.cloud != "aws":
        raise UsageError(
            f"{path}: target.cloud is {spec.target.cloud!r}; `kumo cloud` provisions aws targets only",
            "On other clouds kumo deploys to the kubeconfig context you give it.",
        )
    session = options.session or _session()
    region = spec.target.region or ""
    known = {r for p in session.get_available_partitions() for r in session.get_available_regions("eks", p)}
    ctx = Ctx(
        spec=spec,
        path=path,
        session=session,
        region=region,
        reporter=options.reporter,
        waits=options.waits,
        fix_subnet_tags=options.fix_subnet_tags,
    )
    if region not in known:
        raise ctx.located(
            ("target", "region"),
            f"unknown AWS region {region!r} (EKS is offered in {len(known)} regions, e.g. ap-northeast-1)",
        )
    if session.get_credentials() is None:
        raise UsageError("no AWS credentials found", CREDENTIALS_HINT)
    return ctx


def _session() -> Any:
    try:
        return boto3.session.Session()
    except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
        raise UsageError(f"AWS configuration: {exc}", CREDENTIALS_HINT) from None


def _account(ctx: Ctx) -> None:
    try:
        ctx.live.account_id = str(ctx.client("sts").get_caller_identity()["Account"])
    except NoCredentialsError:
        raise UsageError("no AWS credentials found", CREDENTIALS_HINT) from None
    except ClientError as exc:
        raise UsageError(f"the AWS credentials were refused: {exc}", CREDENTIALS_HINT) from None
    except (NoRegionError, BotoCoreError) as exc:
        raise ProviderError(f"cannot reach AWS STS: {exc}") from None
    wanted = ctx.spec.target.account_id
    if wanted and wanted != ctx.live.account_id:
        raise ctx.located(
            ("target", "accountId"),
            f"expected the credentials of account {wanted}, found account {ctx.live.account_id}",
            "Use credentials of that account (AWS_PROFILE), or fix target.accountId.",
        )


def _reconcilers(ctx: Ctx) -> list[tuple[Any, Any]]:
    return [(r, _BY_TYPE[r.type](r)) for r in aws_resources(ctx.spec, ctx.live.account_id)]


def _preflight(ctx: Ctx) -> None:
    _account(ctx)
    if ctx.spec.cluster is not None:
        check_version(ctx)
    else:
        _existing_cluster(ctx)
    check_certificate_refs(ctx)


def _existing_cluster(ctx: Ctx) -> None:
    """Without ``cluster:`` kumo creates no cluster; the DNS controller's role then trusts the OIDC
    issuer of an existing EKS cluster named after the app, which must exist."""
    try:
        cluster = ctx.client("eks").describe_cluster(name=ctx.cluster_name)["cluster"]
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        raise ctx.located(
            ("target",),
            f"kumo.yaml has no cluster: section, and there is no EKS cluster {ctx.cluster_name} "
            f"in {ctx.region} to deploy to",
            "Add cluster: (kumo creates it), or create the cluster first.",
        ) from None
    ctx.live.cluster_arn = cluster.get("arn")
    ctx.live.cluster_endpoint = cluster.get("endpoint")
    ctx.live.cluster_ca = (cluster.get("certificateAuthority") or {}).get("data")
    ctx.live.oidc_issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")


def _guard(call: Any) -> Any:
    """AWS errors that are not a bad input become ProviderError (exit 1) with the call that failed."""
    try:
        return call()
    except KumoError:
        raise
    except ClientError as exc:
        raise ProviderError(
            f"AWS refused: {exc}",
            "Fix the cause, then run the command again: it finds what exists and carries on.",
        ) from exc
    except BotoCoreError as exc:
        raise ProviderError(f"AWS call failed: {exc}") from exc


def _plan(ctx: Ctx) -> list[Step]:
    _preflight(ctx)
    return [rec.read(ctx) for _, rec in _reconcilers(ctx)]


def plan(path: str | Path, options: CloudOptions | None = None) -> CloudResult:
    options = options or CloudOptions()
    ctx = _open(path, options)
    steps = _guard(lambda: _plan(ctx))
    return CloudResult(ctx.spec.app, steps, _outputs(ctx))


def apply(path: str | Path, options: CloudOptions | None = None) -> CloudResult:
    options = options or CloudOptions()
    ctx = _open(path, options)
    result: CloudResult = _guard(lambda: _apply(ctx, options))
    return result


def _apply(ctx: Ctx, options: CloudOptions) -> CloudResult:
    _plan(ctx)  # every check of bad input, before the first write
    steps = []
    writes = 0
    for resource, rec in _reconcilers(ctx):
        step = rec.read(ctx)
        if step.writes:
            detail = f" ({', '.join(step.changes)})" if step.changes else ""
            ctx.reporter.line(f"  {_SIGN[step.action]} {step.action:9} {resource.type} {step.name}{detail}")
            rec.apply(ctx, step)
            writes += 1
        else:
            ctx.reporter.line(f"  {_SIGN[step.action]} {step.action:9} {resource.type} {step.name}")
        steps.append(step)
    outputs = _outputs(ctx)
    if ctx.live.cluster_endpoint:
        target = Path(options.kubeconfig).expanduser() if options.kubeconfig else default_kubeconfig()
        name = ctx.live.cluster_arn or ctx.cluster_name
        outputs.context = write_context(
            target,
            name,
            ctx.cluster_name,
            ctx.region,
            options.kubeconfig_endpoint or ctx.live.cluster_endpoint,
            ctx.live.cluster_ca,
        )
        outputs.kubeconfig = str(target)
        ctx.reporter.line(f"  kubeconfig context {name} written to {target}")
    return CloudResult(ctx.spec.app, steps, outputs, writes)


_SIGN = {"create": "+", "update": "~", "unchanged": "=", "lookup": "?", "delete": "-"}


def _outputs(ctx: Ctx) -> Outputs:
    spec = ctx.spec
    role = None
    if spec.dns is not None and spec.dns.provider == "route53" and spec.dns.controller.enabled:
        role = dns_role_arn(ctx.live.account_id, ctx.cluster_name)
    certificates = dict(ctx.live.certificates)
    for service in spec.services:
        endpoint = service.endpoint
        if endpoint is not None and isinstance(endpoint.tls, TlsRef) and endpoint.tls.certificate_arn:
            certificates.setdefault(endpoint.hostname, endpoint.tls.certificate_arn)
    return Outputs(
        account_id=ctx.live.account_id,
        region=ctx.region,
        cluster=ctx.cluster_name if ctx.live.cluster_arn or spec.cluster is not None else None,
        cluster_arn=ctx.live.cluster_arn,
        cluster_endpoint=ctx.live.cluster_endpoint,
        oidc_issuer=ctx.live.oidc_issuer,
        dns_role_arn=role,
        zone_id=ctx.live.zone_id,
        certificate_arns=certificates,
    )


def status(path: str | Path, options: CloudOptions | None = None) -> CloudResult:
    """What exists, with its state, and the outputs (read-only)."""
    options = options or CloudOptions()
    ctx = _open(path, options)

    def run() -> CloudResult:
        _account(ctx)
        steps = []
        for resource, rec in _reconcilers(ctx):
            try:
                step = rec.read(ctx)
            except UsageError as exc:
                step = Step(
                    resource.type, resource.name, "lookup", f"not found: {exc.message}", state="MISSING"
                )
            if step.action == "create":
                step.state = "MISSING"
            elif step.state is None:
                step.state = "EXISTS" if step.action != "lookup" else "FOUND"
            steps.append(step)
        return CloudResult(ctx.spec.app, steps, _outputs(ctx))

    result: CloudResult = _guard(run)
    return result


def live_facts(spec: Spec, path: str | Path, options: CloudOptions | None = None) -> CloudFacts:
    """The values placeholders stand for, read from the account (read-only): for ``kumo status``,
    ``diff`` and ``history`` on an aws target."""
    options = options or CloudOptions()
    ctx = context(spec, Path(path), options)

    def run() -> CloudFacts:
        _account(ctx)
        certificates: dict[str, str] = {}
        for service in spec.services:
            endpoint = service.endpoint
            if endpoint is None or endpoint.tls != "auto":
                continue
            found = find_certificate(ctx, endpoint.hostname)
            if found is None or found[1] != "ISSUED":
                raise UsageError(
                    f"no ISSUED ACM certificate for {endpoint.hostname} in {ctx.region} yet",
                    f"Run `kumo cloud apply {path}` (or `kumo up {path}`) first.",
                )
            certificates[endpoint.hostname] = found[0]
        return CloudFacts(account_id=ctx.live.account_id, certificate_arns=certificates)

    facts: CloudFacts = _guard(run)
    return facts


# -- destroy ------------------------------------------------------------------------------------


@dataclass
class LoadBalancer:
    kind: str  # elbv2 or elb (classic)
    name: str
    arn: str | None


def cluster_load_balancers(ctx: Ctx) -> tuple[list[LoadBalancer], list[str]]:
    """Load balancers and target groups the cluster's controllers made for its Services."""
    name = ctx.cluster_name
    keys = {f"kubernetes.io/cluster/{name}"}

    def ours(tags: dict[str, str]) -> bool:
        return any(k in keys for k in tags) or tags.get("elbv2.k8s.aws/cluster") == name

    found: list[LoadBalancer] = []
    elbv2 = ctx.client("elbv2")
    lbs = [
        lb
        for page in elbv2.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancers"]
    ]
    for chunk in _chunks([lb["LoadBalancerArn"] for lb in lbs], 20):
        for desc in elbv2.describe_tags(ResourceArns=chunk)["TagDescriptions"]:
            if ours(tag_dict(desc.get("Tags"))):
                arn = desc["ResourceArn"]
                found.append(LoadBalancer("elbv2", arn.split("/")[-2], arn))
    groups = [
        g for page in elbv2.get_paginator("describe_target_groups").paginate() for g in page["TargetGroups"]
    ]
    target_groups = []
    for chunk in _chunks([g["TargetGroupArn"] for g in groups], 20):
        for desc in elbv2.describe_tags(ResourceArns=chunk)["TagDescriptions"]:
            if ours(tag_dict(desc.get("Tags"))):
                target_groups.append(str(desc["ResourceArn"]))
    elb = ctx.client("elb")
    classic = [
        lb["LoadBalancerName"]
        for page in elb.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancerDescriptions"]
    ]
    for chunk in _chunks(classic, 20):
        for desc in elb.describe_tags(LoadBalancerNames=chunk)["TagDescriptions"]:
            if ours(tag_dict(desc.get("Tags"))):
                found.append(LoadBalancer("elb", desc["LoadBalancerName"], None))
    return found, target_groups


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass
class DestroyResult:
    app: str
    deleted: list[str]
    load_balancers: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"app": self.app, "deleted": self.deleted, "loadBalancers": self.load_balancers}


def destroy_plan(
    path: str | Path, options: CloudOptions | None = None
) -> tuple[Ctx, list[str], list[LoadBalancer]]:
    """What destroy would delete (kumo's resources that exist), and the cluster's load balancers.
    With ``options.env`` only that environment's certificates: the cluster is shared."""
    options = options or CloudOptions()
    ctx = _open(path, options)

    def run() -> tuple[Ctx, list[str], list[LoadBalancer]]:
        _account(ctx)
        existing = []
        for resource, rec in _reconcilers(ctx):
            if resource.action == "lookup" or (options.env and not isinstance(rec, CertificateReconciler)):
                continue
            try:
                step = rec.read(ctx)
            except UsageError:
                continue  # not kumo's: it stays
            if step.action != "create":
                existing.append(f"{resource.type} {resource.name}")
        lbs = [] if options.env else cluster_load_balancers(ctx)[0]
        return ctx, existing, lbs

    result: tuple[Ctx, list[str], list[LoadBalancer]] = _guard(run)
    return result


def destroy(ctx: Ctx, delete_load_balancers: bool = False, certificates_only: bool = False) -> DestroyResult:
    """Delete kumo's resources in reverse order; ``certificates_only`` (an environment's destroy)
    leaves the shared cluster and roles alone."""

    def run() -> DestroyResult:
        if certificates_only:
            deleted = []
            for resource, rec in _reconcilers(ctx):
                if isinstance(rec, CertificateReconciler) and rec.delete(ctx):
                    ctx.reporter.line(f"  - deleted   {resource.type} {resource.name}")
                    deleted.append(f"{resource.type} {resource.name}")
            return DestroyResult(ctx.spec.app, deleted, [])
        lbs, groups = cluster_load_balancers(ctx)
        if lbs and not delete_load_balancers:
            raise UsageError(
                f"cluster {ctx.cluster_name} still has load balancers its Services created: "
                + ", ".join(f"{lb.name} ({lb.kind})" for lb in lbs)
                + "; deleting the cluster would leave them running (and block deleting the network)",
                "Remove the app first (`kumo down FILE`), or pass --delete-load-balancers.",
            )
        for lb in lbs:
            ctx.reporter.line(f"  - delete    load balancer {lb.name}")
            if lb.kind == "elbv2":
                ctx.client("elbv2").delete_load_balancer(LoadBalancerArn=lb.arn)
            else:
                ctx.client("elb").delete_load_balancer(LoadBalancerName=lb.name)
        for arn in groups:
            ctx.client("elbv2").delete_target_group(TargetGroupArn=arn)
        deleted = []
        pairs = _reconcilers(ctx)
        for _, rec in pairs:  # read what destroy needs to find things (the cluster's issuer)
            if isinstance(rec, ClusterReconciler):
                with contextlib.suppress(UsageError):
                    rec.read(ctx)
        for resource, rec in reversed(pairs):
            delete = getattr(rec, "delete", None)
            if delete is None:
                continue
            if delete(ctx):
                ctx.reporter.line(f"  - deleted   {resource.type} {resource.name}")
                deleted.append(f"{resource.type} {resource.name}")
        for name in delete_app_certificates(ctx):  # preview environments' certificates
            ctx.reporter.line(f"  - deleted   AWS::CertificateManager::Certificate {name}")
            deleted.append(f"AWS::CertificateManager::Certificate {name}")
        return DestroyResult(ctx.spec.app, deleted, [lb.name for lb in lbs])

    result: DestroyResult = _guard(run)
    return result
