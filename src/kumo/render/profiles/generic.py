"""Any conformant cluster: a plain LoadBalancer, an Ingress, or the Gateway API, with cert-manager
issuing the certificate for ``tls: auto``. This is the base behaviour, unchanged."""

from __future__ import annotations

from typing import ClassVar

from kumo.render.profiles.base import Profile


class GenericProfile(Profile):
    name: ClassVar[str] = "generic"
