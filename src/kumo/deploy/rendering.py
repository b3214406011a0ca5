"""From kumo.yaml to the exact objects a release applies: rendered, labelled and namespaced."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kumo.deploy.objects import Obj, Ref, in_apply_order, is_namespaced_default, labelled, release_labels
from kumo.errors import UsageError
from kumo.render import CloudFacts, find_placeholders, render_addons, render_app
from kumo.render.context import DEFAULT_ENV
from kumo.spec import Spec, load_spec
from kumo.spec.model import TlsRef


@dataclass
class Rendered:
    spec: Spec
    env: str | None
    release: str
    namespace: str
    objects: list[Obj]
    addons: list[Obj] = field(default_factory=list)
    hostnames: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    #: The kumo.yaml it came from, when it came from a file.
    source: Path | None = None
    #: Values only the cloud step knows that are still placeholders (read-only commands only).
    missing: list[str] = field(default_factory=list)

    @property
    def app(self) -> str:
        return self.spec.app

    @property
    def env_label(self) -> str:
        return self.env or DEFAULT_ENV

    @property
    def refs(self) -> list[Ref]:
        return [Ref.of(o) for o in self.objects]


def release_name(spec: Spec, env: str | None) -> str:
    return spec.app if env is None else f"{spec.app}-{env}"


def endpoint_urls(spec: Spec) -> tuple[list[str], list[str]]:
    hostnames: list[str] = []
    urls: list[str] = []
    for service in spec.services:
        endpoint = service.endpoint
        if endpoint is None:
            continue
        hostnames.append(endpoint.hostname)
        port = endpoint.ports[0]
        secure = port.protocol == "https" and (isinstance(endpoint.tls, TlsRef) or endpoint.tls == "auto")
        scheme = "https" if secure else "http"
        default = 443 if scheme == "https" else 80
        suffix = "" if port.port == default else f":{port.port}"
        urls.append(f"{scheme}://{endpoint.hostname}{suffix}")
    return hostnames, urls


def render_release(
    spec: Spec, env: str | None, facts: CloudFacts | None = None, *, allow_placeholders: bool = False
) -> Rendered:
    """Render the spec; every object gets the release labels and, if namespaced, a namespace.

    ``facts`` are the values only the cloud step knows (account id, certificate ARNs); without
    them an object that needs one cannot be deployed. Read-only commands (status, diff, history)
    pass ``allow_placeholders``: ``missing`` then lists what is unfilled instead of an error.
    """
    release = release_name(spec, env)
    namespace = spec.default_namespace
    labels = release_labels(spec.app, env or DEFAULT_ENV, release)
    objects = [_finish(o, namespace, labels) for o in render_app(spec, env, facts)]
    addons = [_finish(o, namespace, {}) for o in render_addons(spec, env, facts)]
    left = find_placeholders(objects + addons)
    if left and not allow_placeholders:
        raise UsageError(
            "cannot deploy yet: the rendered objects still hold values only the cloud step knows: "
            + ", ".join(left),
            "On an aws target run `kumo cloud apply FILE` (or `kumo up` without --skip-cloud) first, "
            "or set target.accountId and a certificate reference.",
        )
    hostnames, urls = endpoint_urls(spec)
    return Rendered(
        spec,
        env,
        release,
        namespace,
        in_apply_order(objects),
        in_apply_order(addons),
        hostnames,
        urls,
        missing=left,
    )


def load_release(
    path: str | Path, env: str | None, facts: CloudFacts | None = None, *, allow_placeholders: bool = False
) -> Rendered:
    """Load, validate and render; raises before anything touches a cluster."""
    rendered = render_release(load_spec(path, env=env), env, facts, allow_placeholders=allow_placeholders)
    rendered.source = Path(path)
    return rendered


def _finish(obj: Obj, namespace: str, labels: dict[str, str]) -> Obj:
    result = labelled(obj, labels) if labels else dict(obj)
    metadata = result.setdefault("metadata", {})
    if is_namespaced_default(result) and not metadata.get("namespace"):
        metadata["namespace"] = namespace
    return result
