"""Pod and container security contexts (ARCHITECTURE section 6).

Non-root, read-only root filesystem, RuntimeDefault seccomp, all capabilities dropped, no
privilege escalation, and fsGroup at pod level, where Kubernetes accepts it.

A non-root process cannot bind a port below 1024. Rather than swap the user's image, kumo sets the
namespaced, "safe" sysctl ``net.ipv4.ip_unprivileged_port_start`` to the service's port, so the
official ``nginx`` image serves port 80 as user 65532. The images' writable directories become
emptyDir mounts so the root filesystem can stay read-only.
"""

from __future__ import annotations

import re
from typing import Any

from kumo.spec import Service

NONROOT_UID = 65532
_NGINX_PATHS = ["/tmp", "/var/cache/nginx", "/var/run"]
_DEFAULT_PATHS = ["/tmp"]
_NGINX_IMAGE = re.compile(r"(^|/)nginx(:|@|$)")


def pod_security_context(run_as_user: int | None, unprivileged_port: int | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if run_as_user is not None:
        context.update(
            {
                "runAsNonRoot": True,
                "runAsUser": run_as_user,
                "runAsGroup": run_as_user,
                "fsGroup": run_as_user,
            }
        )
    if unprivileged_port is not None and unprivileged_port < 1024:
        context["sysctls"] = [
            {"name": "net.ipv4.ip_unprivileged_port_start", "value": str(unprivileged_port)}
        ]
    return context


def container_security_context(read_only_root: bool) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def writable_paths(service: Service) -> list[str]:
    """The directories that get an emptyDir: as configured, else what the image is known to need."""
    if service.security.writable_paths is not None:
        return list(dict.fromkeys(service.security.writable_paths))
    if not service.security.read_only_root_filesystem:
        return []
    return list(_NGINX_PATHS if _NGINX_IMAGE.search(service.image) else _DEFAULT_PATHS)
