"""spec -> Kubernetes objects (plain dicts, as the API returns them)."""

from __future__ import annotations

import copy
from typing import Any

from kumo.render.addons import render_console, render_dns_controller
from kumo.render.context import CloudFacts, RenderContext
from kumo.render.profiles import get_profile
from kumo.render.workload import deployment, files_config_map, namespace, network_policy
from kumo.spec import Spec


def render_app(spec: Spec, env: str | None = None, facts: CloudFacts | None = None) -> list[dict[str, Any]]:
    """The app's objects: its Namespace, then per service a Deployment, a Service, what exposes it,
    and its NetworkPolicy."""
    ctx = RenderContext(spec=spec, env=env, facts=facts or CloudFacts())
    profile = get_profile(spec.target.cloud)
    objects = [namespace(ctx, ctx.namespace)]
    for service in spec.services:
        files = files_config_map(ctx, service)
        if files is not None:
            objects.append(files)
        objects.append(deployment(ctx, service))
        objects.extend(profile.expose(ctx, service).objects)
        if service.security.network_policy:
            objects.append(network_policy(ctx, service))
    return copy.deepcopy(objects)


def render_addons(
    spec: Spec, env: str | None = None, facts: CloudFacts | None = None
) -> list[dict[str, Any]]:
    """kumo's cluster add-ons (the DNS controller), which ``kumo up`` applies before the app."""
    return copy.deepcopy(
        render_dns_controller(RenderContext(spec=spec, env=env, facts=facts or CloudFacts()))
    )


def render(
    spec: Spec, env: str | None = None, facts: CloudFacts | None = None, *, console: bool = False
) -> list[dict[str, Any]]:
    """Everything, add-ons first, in the order they can be applied; ``console`` adds kumo console's."""
    extra = render_console(RenderContext(spec=spec, env=env, facts=facts or CloudFacts())) if console else []
    return render_addons(spec, env, facts) + copy.deepcopy(extra) + render_app(spec, env, facts)


def dns_objects(spec: Spec, env: str | None = None) -> list[dict[str, Any]]:
    """The objects the DNS controller publishes, one per service endpoint."""
    ctx = RenderContext(spec=spec, env=env)
    profile = get_profile(spec.target.cloud)
    found = []
    for service in spec.services:
        exposure = profile.expose(ctx, service)
        if exposure.dns_object is not None:
            found.append(exposure.dns_object)
    return found
