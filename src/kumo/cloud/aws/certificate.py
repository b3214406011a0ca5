"""ACM: an ISSUED certificate that covers the hostname is used as found; otherwise kumo requests one
with DNS validation, writes the validation CNAME through kumo's own Route 53 provider, and waits
until it is ISSUED. A ``certificateArn`` given in the spec is checked against the hostname."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped, unused-ignore]

from kumo.cloud.aws.context import Ctx, Step, error_code, tag_dict, tag_list
from kumo.cloud.aws.waits import wait_for
from kumo.dns import Changes, Endpoint
from kumo.dns.providers.route53 import Route53Provider
from kumo.errors import ProviderError
from kumo.plan import CloudResource
from kumo.spec import TlsRef


def covers(pattern: str, hostname: str) -> bool:
    pattern = pattern.rstrip(".").lower()
    if pattern == hostname:
        return True
    return pattern.startswith("*.") and hostname.partition(".")[2] == pattern[2:]


def _names(summary: dict[str, Any]) -> list[str]:
    return [str(summary.get("DomainName", "")), *summary.get("SubjectAlternativeNameSummaries", [])]


def find_certificate(ctx: Ctx, hostname: str) -> tuple[str, str, bool] | None:
    """(ARN, status, kumo's own) of the best certificate for ``hostname``: an ISSUED one, else a
    PENDING_VALIDATION one kumo requested (to resume its validation)."""
    acm = ctx.client("acm")
    pending = None
    for page in acm.get_paginator("list_certificates").paginate(
        CertificateStatuses=["ISSUED", "PENDING_VALIDATION"]
    ):
        for summary in page.get("CertificateSummaryList", []):
            if not any(covers(name, hostname) for name in _names(summary)):
                continue
            arn = str(summary["CertificateArn"])
            status = str(
                summary.get("Status") or acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
            )
            owned = ctx.owned(tag_dict(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags")))
            if status == "ISSUED":
                return arn, status, owned
            if owned and pending is None:
                pending = (arn, status, owned)
    return pending


def check_certificate_refs(ctx: Ctx) -> None:
    """A ``tls.certificateArn`` must exist and cover the endpoint's hostname (the spec loader
    already checked its region)."""
    for index, service in enumerate(ctx.spec.services):
        endpoint = service.endpoint
        if endpoint is None or not isinstance(endpoint.tls, TlsRef) or not endpoint.tls.certificate_arn:
            continue
        arn = endpoint.tls.certificate_arn
        loc = ("services", index, "endpoint", "tls", "certificateArn")
        try:
            cert = ctx.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
        except ClientError as exc:
            if error_code(exc) in ("ResourceNotFoundException", "ValidationException", "InvalidArnException"):
                raise ctx.located(loc, f"no ACM certificate {arn} in {ctx.region}") from None
            raise
        names = [str(cert.get("DomainName", "")), *cert.get("SubjectAlternativeNames", [])]
        if not any(covers(name, endpoint.hostname) for name in names):
            raise ctx.located(
                loc,
                f"certificate {arn} is for {', '.join(dict.fromkeys(names))}, not {endpoint.hostname}",
                "Use a certificate that covers the hostname, or tls: auto to have kumo request one.",
            )


class CertificateReconciler:
    def __init__(self, resource: CloudResource) -> None:
        self.resource = resource
        self.hostname = resource.name

    def read(self, ctx: Ctx) -> Step:
        found = find_certificate(ctx, self.hostname)
        if found is None:
            return Step(
                self.resource.type,
                self.hostname,
                "create",
                "request, DNS-validated (" + self.resource.summary + ")",
            )
        arn, status, owned = found
        if status == "ISSUED":
            ctx.live.certificates[self.hostname] = arn
            why = "kumo's certificate" if owned else "an ISSUED certificate already covers it"
            return Step(self.resource.type, self.hostname, "unchanged", why, state=status, id=arn)
        return Step(
            self.resource.type,
            self.hostname,
            "update",
            "requested earlier, pending validation",
            ["write the validation record", "wait until ISSUED"],
            status,
            arn,
        )

    def apply(self, ctx: Ctx, step: Step) -> None:
        acm = ctx.client("acm")
        arn = step.id
        if arn is None:
            token = hashlib.sha256(f"{ctx.spec.app}/{self.hostname}".encode()).hexdigest()[:32]
            arn = str(
                acm.request_certificate(
                    DomainName=self.hostname,
                    ValidationMethod="DNS",
                    IdempotencyToken=token,
                    Tags=tag_list(ctx.tags),
                )["CertificateArn"]
            )
        record: dict[str, Any] = {}

        def has_record() -> str:
            cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            for option in cert.get("DomainValidationOptions", []):
                if option.get("ResourceRecord"):
                    record.update(option["ResourceRecord"])
                    return "ready"
            return str(cert.get("Status"))

        wait_for(
            ctx,
            f"validation record of {self.hostname}",
            has_record,
            {"ready", "ISSUED"},
            {"FAILED"},
            "seconds",
            300,
        )
        if record:
            self._write_record(ctx, record)

        def status() -> str:
            return str(acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"])

        wait_for(
            ctx,
            f"certificate {self.hostname}",
            status,
            {"ISSUED"},
            {"FAILED", "VALIDATION_TIMED_OUT", "REVOKED"},
            "2-10 min",
            ctx.waits.certificate,
        )
        ctx.live.certificates[self.hostname] = arn

    def _write_record(self, ctx: Ctx, record: dict[str, Any]) -> None:
        if ctx.live.zone_id is None:
            raise ProviderError(
                f"cannot validate the certificate for {self.hostname}: the DNS zone is not on Route 53",
                "Write the validation CNAME in your zone by hand, then run apply again.",
            )
        provider = Route53Provider(zone_ids=[ctx.live.zone_id], client=ctx.client("route53"), rate_limit=20)
        name = str(record["Name"])
        desired = Endpoint(name, (str(record["Value"]),), "CNAME", 300, provider_specific={"alias": "false"})

        async def write() -> None:
            current = {(e.dns_name, e.record_type): e for e in await provider.records()}
            existing = current.get((desired.dns_name, "CNAME"))
            if existing is not None and existing.targets == desired.targets:
                return
            changes = (
                Changes(create=[desired])
                if existing is None
                else Changes(update_old=[existing], update_new=[desired])
            )
            result = await provider.apply_changes(changes)
            if result.failed:
                raise ProviderError(
                    f"writing the validation record {name}: {'; '.join(result.failed.values())}"
                )

        asyncio.run(write())

    def delete(self, ctx: Ctx) -> bool:
        deleted = False
        acm = ctx.client("acm")
        for page in acm.get_paginator("list_certificates").paginate():
            for summary in page.get("CertificateSummaryList", []):
                if not any(covers(name, self.hostname) for name in _names(summary)):
                    continue
                arn = str(summary["CertificateArn"])
                if ctx.owned(tag_dict(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags"))):
                    acm.delete_certificate(CertificateArn=arn)
                    deleted = True
        return deleted


def delete_app_certificates(ctx: Ctx) -> list[str]:
    """Every certificate tagged as this app's (preview environments' included); their domain names."""
    acm = ctx.client("acm")
    deleted = []
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page.get("CertificateSummaryList", []):
            arn = str(summary["CertificateArn"])
            if ctx.owned(tag_dict(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags"))):
                acm.delete_certificate(CertificateArn=arn)
                deleted.append(str(summary.get("DomainName", arn)))
    return deleted
