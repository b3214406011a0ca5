# ruff: noqa: E501, RUF001 - a data table of test references and the docs marks
"""docs/dns.md's flag and annotation tables are kumo.dns.flags, and every ✅ row names a test that exists.

Regenerate the tables with ``PYTHONPATH=src python tests/unit/dns/test_docs_flags.py --write``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from kumo.dns.flags import FLAGS, Status
from kumo.dns.sources.annotations import AWS_PROPERTIES

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "dns.md"
BEGIN, END = "<!-- flags:begin -->", "<!-- flags:end -->"

U = "tests/unit/dns/"
I = "tests/integration/dns/"  # noqa: E741
ARGS = I + "test_external_dns_args.py::test_helm_defaults_and_aws_tutorial_publish_to_route53"
RFC = I + "test_external_dns_args.py::test_rfc2136_tutorial_publishes_to_bind"
SETTINGS = U + "test_settings.py::test_flags_reach_the_settings"
FILTERS = U + "test_sources.py::test_filters_by_service_type_annotation_ingress_class_and_rules"
PODS = U + "test_sources_nodes_pods.py::"
POD_KUBE = I + "test_pod_sources.py::"
# which test shows each implemented flag at work
TESTS: dict[str, list[str]] = {
    "kubeconfig": [ARGS],
    "source": [
        ARGS,
        U + "test_sources.py::test_other_route_kinds_take_targets_from_gateways",
        POD_KUBE + "test_the_cluster_role_grants_exactly_what_the_controller_watches",
    ],
    "annotation-filter": [FILTERS, SETTINGS],
    "annotation-prefix": [U + "test_sources.py::test_only_the_configured_prefix_is_read"],
    "exclude-record-types": [
        U + "test_controller.py::test_aaaa_alias_is_left_alone_when_aaaa_is_not_managed",
        SETTINGS,
    ],
    "gateway-label-filter": [U + "test_sources.py::test_gateway_filters"],
    "gateway-name": [U + "test_sources.py::test_gateway_filters", SETTINGS],
    "gateway-namespace": [U + "test_sources.py::test_gateway_filters", SETTINGS],
    "ignore-hostname-annotation": [
        U + "test_sources.py::test_ignore_hostname_annotation",
        U + "test_sources.py::test_fqdn_template_combine_and_ignore_hostname",
    ],
    "fqdn-template": [
        U + "test_sources.py::test_fqdn_template_combine_and_ignore_hostname",
        U + "test_sources.py::test_fqdn_template_kumo_cannot_evaluate_fails_at_start",
    ],
    "combine-fqdn-annotation": [U + "test_sources.py::test_fqdn_template_combine_and_ignore_hostname"],
    "ignore-ingress-rules-spec": [FILTERS, SETTINGS],
    "ignore-ingress-tls-spec": [FILTERS],
    "ingress-class": [FILTERS, SETTINGS],
    "label-filter": [
        U + "test_sources.py::test_label_filter_set_based_selector",
        I + "test_controller_kube.py::test_ingress_source_with_label_filter_and_namespace",
    ],
    "managed-record-types": [
        U + "test_controller.py::test_aaaa_alias_is_left_alone_when_aaaa_is_not_managed",
        SETTINGS,
    ],
    "namespace": [I + "test_controller_kube.py::test_ingress_source_with_label_filter_and_namespace"],
    "publish-host-ip": [PODS + "test_headless_publishes_ready_pods_and_their_hostnames", SETTINGS],
    "always-publish-not-ready-addresses": [
        PODS + "test_headless_publishes_ready_pods_and_their_hostnames",
        SETTINGS,
    ],
    "expose-internal-ipv6": [PODS + "test_headless_publishes_ready_pods_and_their_hostnames", SETTINGS],
    "publish-internal-services": [
        U + "test_sources.py::test_no_address_no_endpoints_and_clusterip_needs_publish_internal"
    ],
    "service-type-filter": [FILTERS, SETTINGS],
    "provider": [ARGS, RFC, I + "test_webhook.py::test_cli_webhook_serve"],
    "domain-filter": [ARGS, U + "test_sources.py::test_outside_domain_filter_is_a_problem"],
    "exclude-domains": [U + "test_sources.py::test_regex_domain_filter_overrides_the_plain_filter"],
    "regex-domain-filter": [
        U + "test_sources.py::test_regex_domain_filter_overrides_the_plain_filter",
        SETTINGS,
    ],
    "regex-domain-exclusion": [U + "test_sources.py::test_regex_domain_filter_overrides_the_plain_filter"],
    "zone-id-filter": [I + "test_route53_moto.py::test_zone_listing_pagination_and_filters"],
    "aws-zone-type": [ARGS, I + "test_route53_moto.py::test_zone_listing_pagination_and_filters"],
    "aws-zone-tags": [I + "test_route53_moto.py::test_zone_tags_filter"],
    "aws-profile": [I + "test_route53_moto.py::test_aws_profile"],
    "aws-assume-role": [I + "test_route53_moto.py::test_assume_role_and_batch_change_size"],
    "aws-assume-role-external-id": [I + "test_route53_moto.py::test_assume_role_and_batch_change_size"],
    "aws-batch-change-size": [I + "test_route53_moto.py::test_assume_role_and_batch_change_size", SETTINGS],
    "aws-batch-change-size-bytes": [
        U + "test_route53_pure.py::test_batches_respect_cost_and_never_split_a_group",
        SETTINGS,
    ],
    "aws-batch-change-size-values": [
        U + "test_route53_pure.py::test_batches_respect_cost_and_never_split_a_group",
        SETTINGS,
    ],
    "aws-evaluate-target-health": [
        U + "test_route53_pure.py::test_prefer_cname_and_evaluate_target_health_flags",
        SETTINGS,
    ],
    "aws-api-retries": [I + "test_route53_moto.py::test_throttling_backs_off_and_converges", SETTINGS],
    "aws-prefer-cname": [
        U + "test_route53_pure.py::test_prefer_cname_and_evaluate_target_health_flags",
        SETTINGS,
    ],
    "aws-zone-match-parent": [I + "test_route53_moto.py::test_zone_selection_matches_external_dns"],
    "inmemory-zone": [I + "test_webhook.py::test_cli_webhook_serve"],
    "rfc2136-host": [RFC, U + "test_settings.py::test_rfc2136_flags"],
    "rfc2136-port": [RFC],
    "rfc2136-zone": [RFC, U + "test_settings.py::test_rfc2136_flags"],
    "rfc2136-insecure": [U + "test_settings.py::test_rfc2136_flags"],
    "rfc2136-tsig-keyname": [RFC],
    "rfc2136-tsig-secret": [RFC],
    "rfc2136-tsig-secret-alg": [RFC, U + "test_settings.py::test_rfc2136_flags"],
    "rfc2136-tsig-axfr": [RFC, I + "test_rfc2136.py::test_min_ttl_and_unsigned_transfer"],
    "rfc2136-min-ttl": [I + "test_rfc2136.py::test_min_ttl_and_unsigned_transfer"],
    "rfc2136-batch-change-size": [
        I + "test_rfc2136.py::test_bad_group_is_isolated",
        U + "test_settings.py::test_rfc2136_flags",
    ],
    "policy": [ARGS, I + "test_route53_moto.py::test_each_policy_on_route53"],
    "registry": [ARGS, U + "test_plan.py::test_noop_registry_owner_empty_manages_everything"],
    "txt-owner-id": [ARGS, U + "test_settings.py::test_environment_variables"],
    "txt-prefix": [RFC, U + "test_registry.py::test_txt_record_name"],
    "txt-suffix": [U + "test_registry.py::test_txt_record_name", SETTINGS],
    "txt-encrypt-enabled": [
        I + "test_rfc2136.py::test_encrypted_txt_round_trip_through_bind",
        U + "test_txtcrypt.py::test_round_trip_through_the_txt_registry",
        U + "test_txtcrypt.py::test_fixed_key_and_nonce_vector_follows_external_dns_algorithm",
    ],
    "txt-encrypt-aes-key": [
        U + "test_txtcrypt.py::test_reads_a_value_written_by_external_dns",
        U + "test_txtcrypt.py::test_key_forms_and_errors",
    ],
    "migrate-from-txt-owner": [
        U + "test_txt_owner_migration.py::test_records_of_the_old_owner_are_taken_over",
        U + "test_txt_owner_migration.py::test_flag_reaches_the_registry",
    ],
    "txt-wildcard-replacement": [
        U + "test_controller.py::test_wildcard_record_deleted_while_no_controller_ran_is_found_again"
    ],
    "interval": [ARGS, SETTINGS],
    "min-event-sync-interval": [SETTINGS],
    "once": [ARGS, I + "test_controller_kube.py::test_cli_once_and_dry_run"],
    "dry-run": [I + "test_controller_kube.py::test_cli_once_and_dry_run"],
    "events": [SETTINGS],
    "min-ttl": [U + "test_sources.py::test_min_ttl_applies_when_the_source_sets_none", SETTINGS],
    "log-format": [U + "test_settings.py::test_logrus_formats", RFC],
    "metrics-address": [I + "test_health.py::test_healthz_reflects_sync_failures"],
    "log-level": [U + "test_settings.py::test_logrus_formats", ARGS],
    "webhook-provider-url": [I + "test_webhook.py::test_controller_through_webhook"],
    "webhook-provider-read-timeout": [SETTINGS],
    "webhook-provider-write-timeout": [SETTINGS],
    "rate-limit": [U + "test_ratelimit.py::test_token_bucket_spaces_calls_at_the_rate"],
    "local-db": [
        I + "test_webhook.py::test_cli_webhook_serve",
        I + "test_local.py::test_records_survive_restart",
    ],
    "local-zone": [I + "test_webhook.py::test_cli_webhook_serve"],
    "local-listen": [I + "test_local.py::test_dig_answers_udp_and_tcp_with_soa_and_ns"],
    "zones-configmap": [
        U + "test_zones.py::test_each_zone_gets_its_own_owner_and_a_new_zone_needs_no_restart",
        "tests/integration/deploy/test_two_apps.py::test_two_apps_with_different_zones_keep_their_names",
    ],
    "leader-elect": [I + "test_controller_kube.py::test_leader_failover"],
    "leader-election-namespace": [I + "test_controller_kube.py::test_leader_failover"],
    "leader-election-id": [I + "test_controller_kube.py::test_leader_failover"],
    "lease-duration": [I + "test_controller_kube.py::test_leader_failover"],
    "delete-grace-period": [I + "test_controller_kube.py::test_delete_grace_period_on_lost_lb_status"],
    "resync-period": [U + "test_controller.py::test_resync_repairs_drift"],
    "health-failure-threshold": [I + "test_health.py::test_healthz_reflects_sync_failures"],
}

MARK = {Status.IMPLEMENTED: "✅", Status.ACCEPTED: "➖", Status.REJECTED: "❌"}

# external-dns's annotations (under --annotation-prefix), with kumo's status and a test
ANNOTATIONS: list[tuple[str, str, str, list[str]]] = [
    ("hostname", "✅", "comma-separated names", [U + "test_sources.py::test_lb_hostname_becomes_cname_with_resource_label"]),
    ("internal-hostname", "✅", "names for the ClusterIP", [U + "test_sources.py::test_internal_hostname_uses_cluster_ip"]),
    ("ttl", "✅", "seconds or a Go duration (1.5m, 90000ms)", [U + "test_sources.py::test_ttl_uses_go_durations"]),
    ("target", "✅", "targets instead of the load balancer's; on a headless Service's Pod, that Pod's targets; on a Gateway, its routes' targets", [U + "test_sources.py::test_target_alias_set_identifier_and_aws_annotations", PODS + "test_headless_pod_target_annotation_ipv6_and_what_is_skipped", U + "test_gateway_listeners.py::test_gateway_target_annotation_replaces_its_addresses"]),
    ("alias", "✅", "true, false, A or AAAA (one ALIAS type)", [U + "test_sources.py::test_alias_annotation_values", U + "test_route53_pure.py::test_alias_annotation_a_or_aaaa_makes_one_alias_type"]),
    ("set-identifier", "✅", "routing policy record sets", [U + "test_sources.py::test_target_alias_set_identifier_and_aws_annotations"]),
    ("controller", "✅", "objects for another controller are skipped", [U + "test_sources.py::test_filters_namespace_labels_controller"]),
    ("ingress-hostname-source", "✅", "annotation-only or defined-hosts-only", [U + "test_sources.py::test_ingress_rules_tls_and_hostname_source"]),
    ("aws-geoproximity-*", "✅", "region, local-zone-group, coordinates, bias", [U + "test_route53_pure.py::test_geoproximity_is_written_and_read_back_the_same"]),
    ("aws-* (other)", "✅", ", ".join("aws-" + p[4:] for p in sorted(AWS_PROPERTIES) if "geoproximity" not in p) + "; any other aws-* is a Warning event", [U + "test_sources.py::test_unknown_aws_annotations_are_problems_not_properties"]),
    ("webhook-*", "✅", "passed to a webhook provider as provider-specific properties", [U + "test_sources.py::test_target_alias_set_identifier_and_aws_annotations"]),
    ("access", "✅", "NodePort Services: public (ExternalIPs) or private (InternalIPs)", [PODS + "test_node_port_publishes_node_addresses_and_srv_records", POD_KUBE + "test_node_port_service_publishes_node_addresses_and_srv"]),
    ("endpoints-type", "✅", "headless Services: NodeExternalIP or HostIP instead of the Pod IPs", [PODS + "test_headless_publishes_ready_pods_and_their_hostnames", POD_KUBE + "test_headless_service_publishes_statefulset_pods"]),
    ("other providers' (cloudflare-*, ...)", "➖", "kumo rejects those providers", []),
]  # fmt: skip


def render() -> str:
    lines = [
        BEGIN,
        "",
        "✅ implemented (the test named shows it); ➖ accepted, no effect on records, logged once at start"
        " when set; ❌ an error at start when set. Every flag also reads `EXTERNAL_DNS_<FLAG>`.",
        "",
        "| flag | default | kumo | what kumo does | test |",
        "|---|---|---|---|---|",
    ]
    for flag in FLAGS:
        if flag.kumo_only:
            continue
        default = (",".join(flag.default) if isinstance(flag.default, list) else str(flag.default)) or '""'
        tests = "<br>".join(f"`{t}`" for t in TESTS.get(flag.name, []))
        note = flag.note + (f" (kumo: {', '.join(flag.supported)})" if flag.supported else "")
        lines.append(f"| `--{flag.name}` | `{default}` | {MARK[flag.status]} | {note} | {tests} |")
    lines += [
        "",
        "kumo's own flags (no external-dns equivalent):",
        "",
        "| flag | default | what | test |",
        "|---|---|---|---|",
    ]
    for flag in FLAGS:
        if flag.kumo_only:
            default = str(flag.default)
            tests = "<br>".join(f"`{t}`" for t in TESTS.get(flag.name, []))
            lines.append(f"| `--{flag.name}` | `{default}` | {flag.note} | {tests} |")
    lines += [
        "",
        "Annotations (under `--annotation-prefix`, default `external-dns.alpha.kubernetes.io/`):",
        "",
    ]
    lines += ["| annotation | kumo | what | test |", "|---|---|---|---|"]
    for name, mark, what, tests in ANNOTATIONS:
        lines.append(f"| `{name}` | {mark} | {what} | {'<br>'.join(f'`{t}`' for t in tests)} |")
    lines += ["", END]
    return "\n".join(lines)


def _current() -> str:
    text = DOC.read_text()
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def test_docs_table_is_the_flags_table() -> None:
    assert _current() == render(), (
        "docs/dns.md is stale: PYTHONPATH=src python tests/unit/dns/test_docs_flags.py --write"
    )


def test_every_implemented_row_names_a_test_that_exists() -> None:
    implemented = [f.name for f in FLAGS if f.status is Status.IMPLEMENTED and not f.kumo_only]
    missing = [name for name in implemented if not TESTS.get(name)]
    assert not missing, f"implemented flags without a test: {missing}"
    refs = {t for tests in TESTS.values() for t in tests} | {t for *_, tests in ANNOTATIONS for t in tests}
    for ref in refs:
        path, name = ref.split("::")
        source = (ROOT / path).read_text()
        assert re.search(rf"^(async )?def {re.escape(name)}\(", source, re.M), f"{ref} does not exist"
    assert all(tests for _, mark, _, tests in ANNOTATIONS if mark == "✅")


if __name__ == "__main__" and "--write" in sys.argv:
    text = DOC.read_text()
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + render() + text[text.index(END) + len(END) :]
    else:
        text = text.replace(
            "## Decisions",
            "## Flags and annotations (external-dns v0.22)\n\n" + render() + "\n\n## Decisions",
            1,
        )
    DOC.write_text(text)
