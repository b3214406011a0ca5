"""EKS authentication for the sandbox's emulator: ``k8s-aws-v1.`` tokens, as aws-iam-authenticator
checks them.

The token kubectl's exec plugin (``kumo cloud token``) sends is a presigned STS
``GetCallerIdentity`` URL. EKS replays it to STS and learns who is calling; here STS is the
sandbox's moto server. Only URLs for that endpoint are replayed (a token cannot make the emulator
call anywhere else), and an answer is remembered for a minute, as the token is sent with every
request. The caller is an administrator, as the cluster's creator is on EKS
(``bootstrapClusterCreatorAdminPermissions``); the account has no other principals. moto does not
check signatures, so this proves the token's form and endpoint, not its signature.
"""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from kumo.sandbox.kubeapi.rbac import AUTHENTICATED, MASTERS, User

TOKEN_PREFIX = "k8s-aws-v1."
CACHE_SECONDS = 60.0


class EksAuthenticator:
    def __init__(self, sts_endpoint: str) -> None:
        endpoint = urlsplit(sts_endpoint)
        self.origin = (endpoint.scheme, endpoint.netloc)
        self._cache: dict[str, tuple[float, User]] = {}

    def __call__(self, token: str) -> User | None:
        """The caller, or None when ``token`` is not a valid EKS token for this account."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        user = self._verify(token)
        if user is not None:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[token] = (now, user)
        return user

    def _verify(self, token: str) -> User | None:
        encoded = token.removeprefix(TOKEN_PREFIX)
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        parts = urlsplit(url)
        query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
        if (parts.scheme, parts.netloc) != self.origin or query.get("action") != ["GetCallerIdentity"]:
            return None
        if "x-k8s-aws-id" not in (query.get("x-amz-signedheaders") or [""])[0].split(";"):
            return None  # not signed for a cluster: an STS URL, but not an EKS token
        # moto's server routes a request to a service by its Authorization header, never by a
        # presigned URL's query (it sends those to S3), so the same signature goes in the header
        first = {k: v[0] for k, v in query.items()}
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": f"AWS4-HMAC-SHA256 Credential={first.get('x-amz-credential', '')}, "
                f"SignedHeaders={first.get('x-amz-signedheaders', '')}, "
                f"Signature={first.get('x-amz-signature', '')}",
                "X-Amz-Date": first.get("x-amz-date", ""),
            },
        )
        try:
            # generous: a moto just started answers its first STS call slowly on a busy machine
            with urllib.request.urlopen(request, timeout=15) as resp:
                tree = ElementTree.fromstring(resp.read())
        except (OSError, urllib.error.URLError, ElementTree.ParseError):
            return None
        arn = next((el.text for el in tree.iter() if el.tag.endswith("Arn") and el.text), None)
        if arn is None:
            return None
        return User(arn, (MASTERS, AUTHENTICATED))
