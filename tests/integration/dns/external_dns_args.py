"""external-dns argument lists as teams deploy them (external-dns v0.22), kept verbatim as fixtures.

- ``HELM_DEFAULTS``: the container args the official chart (charts/external-dns) renders with its
  default values: logLevel info, logFormat text, interval 1m, sources service and ingress, policy
  upsert-only, registry txt, provider aws.
- ``AWS_TUTORIAL``: docs/tutorials/aws.md's Deployment args.
- ``RFC2136_TUTORIAL``: docs/tutorials/rfc2136.md's Deployment args (its example TSIG secret).
"""

from __future__ import annotations

HELM_DEFAULTS = [
    "--log-level=info",
    "--log-format=text",
    "--interval=1m",
    "--source=service",
    "--source=ingress",
    "--policy=upsert-only",
    "--registry=txt",
    "--provider=aws",
]

AWS_TUTORIAL = [
    "--source=service",
    "--source=ingress",
    "--domain-filter=example.com",
    "--provider=aws",
    "--policy=upsert-only",
    "--aws-zone-type=public",
    "--registry=txt",
    "--txt-owner-id=my-hostedzone-identifier",
]

RFC2136_TUTORIAL = [
    "--registry=txt",
    "--txt-prefix=external-dns-",
    "--txt-owner-id=k8s",
    "--provider=rfc2136",
    "--rfc2136-host=192.168.0.1",
    "--rfc2136-port=53",
    "--rfc2136-zone=k8s.example.org",
    "--rfc2136-tsig-secret=96Ah/a2g0/nLeFGK+d/0tzQcccf9hCEIy34PoXX2Qg8=",
    "--rfc2136-tsig-secret-alg=hmac-sha256",
    "--rfc2136-tsig-keyname=externaldns-key",
    "--rfc2136-tsig-axfr",
    "--source=ingress",
    "--domain-filter=k8s.example.org",
]


def override(args: list[str], **values: str) -> list[str]:
    """``args`` with some ``--flag=value`` replaced (where the real server is, in a test)."""
    out = []
    for arg in args:
        name = arg[2:].split("=", 1)[0]
        key = name.replace("-", "_")
        out.append(f"--{name}={values[key]}" if key in values else arg)
    return out
