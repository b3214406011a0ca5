"""spec -> Kubernetes objects, through one profile per target cloud, plus kumo's own add-ons."""

from kumo.render.addons import (
    DNS_LEASE_NAME,
    ZONES_CONFIGMAP,
    controller_args,
    render_dns_controller,
    zones_entry,
)
from kumo.render.context import (
    ACCOUNT_ID_PLACEHOLDER,
    CloudFacts,
    RenderContext,
    acm_certificate_placeholder,
    dns_role_arn,
    dns_role_name,
    find_placeholders,
    gcp_certificate_map_name,
)
from kumo.render.meta import HOSTNAME_ANNOTATION, TTL_ANNOTATION
from kumo.render.output import to_yaml_stream, write_directory
from kumo.render.profiles import PROFILES, Profile, get_profile
from kumo.render.render import dns_objects, render, render_addons, render_app
from kumo.render.validate import DEFAULT_VERSIONS, validate_object, validate_objects

__all__ = [
    "ACCOUNT_ID_PLACEHOLDER",
    "DEFAULT_VERSIONS",
    "DNS_LEASE_NAME",
    "HOSTNAME_ANNOTATION",
    "PROFILES",
    "TTL_ANNOTATION",
    "ZONES_CONFIGMAP",
    "CloudFacts",
    "Profile",
    "RenderContext",
    "acm_certificate_placeholder",
    "controller_args",
    "dns_objects",
    "dns_role_arn",
    "dns_role_name",
    "find_placeholders",
    "gcp_certificate_map_name",
    "get_profile",
    "render",
    "render_addons",
    "render_app",
    "render_dns_controller",
    "to_yaml_stream",
    "validate_object",
    "validate_objects",
    "write_directory",
    "zones_entry",
]
