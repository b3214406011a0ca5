"""Authentication and RBAC authorization, as the API server does them for bearer tokens.

Who is asking:
- the kubeconfig's token (and a request with no credentials, the emulator listening on loopback
  only) is the cluster admin, in ``system:masters``, allowed everything;
- a ServiceAccount token from ``serviceaccounts/<name>/token`` (TokenRequest) is
  ``system:serviceaccount:<ns>:<name>`` in ``system:serviceaccounts``,
  ``system:serviceaccounts:<ns>`` and ``system:authenticated``; it is a JWT signed by the
  emulator, valid until it expires or the ServiceAccount is deleted;
- any other token is a 401.

What they may do: the union of the rules of the ClusterRoles and Roles bound to the user, its
groups or its ServiceAccount by ClusterRoleBindings and RoleBindings (rbac.authorization.k8s.io/v1),
plus what every authenticated user has on a real cluster (discovery, version, OpenAPI, and the
self reviews: ``kubectl auth can-i`` and ``kubectl auth whoami``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kumo.sandbox.kubeapi.errors import ApiError

ADMIN_TOKEN = "kumo-sandbox"
ISSUER = "https://kubernetes.default.svc.cluster.local"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
_SA_PREFIX = "system:serviceaccount:"
# What the bootstrap roles system:discovery, system:public-info-viewer and system:basic-user give
# every authenticated user on a real cluster.
_PUBLIC_PATHS = ("/api", "/apis", "/version", "/openapi", "/healthz", "/livez", "/readyz")
_SELF_REVIEWS = {
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
}


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_admin(self) -> bool:
        return MASTERS in self.groups

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = self.extra
        return out


ADMIN = User("kubernetes-admin", (MASTERS, AUTHENTICATED))


@dataclass(frozen=True)
class Attributes:
    """One request as RBAC sees it."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""  # set for non-resource requests

    @property
    def resource_request(self) -> bool:
        return not self.path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Signs and checks ServiceAccount tokens (HS256 JWTs with the API server's claims)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(
        self, namespace: str, name: str, uid: str, audiences: list[str], expiration: int
    ) -> tuple[str, float]:
        now = int(time.time())
        exp = now + expiration
        claims = {
            "aud": audiences,
            "exp": exp,
            "iat": now,
            "nbf": now,
            "iss": ISSUER,
            "jti": secrets.token_hex(8),
            "sub": f"{_SA_PREFIX}{namespace}:{name}",
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(sig)}", float(exp)

    def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this issuer signed and that has not expired, else ``None``."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        want = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(want, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            return None
        if not isinstance(claims, dict) or int(claims.get("exp", 0)) < time.time():
            return None
        return claims


def service_account_user(namespace: str, name: str, uid: str = "") -> User:
    return User(
        f"{_SA_PREFIX}{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED),
        uid,
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def _matches(values: Iterable[Any], want: str) -> bool:
    vals = list(values or [])
    return "*" in vals or want in vals


def rule_allows(rule: dict[str, Any], attrs: Attributes) -> bool:
    if not _matches(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1])):
                return True
        return False
    if not _matches(rule.get("apiGroups") or [], attrs.group):
        return False
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = list(rule.get("resources") or [])
    if not (
        "*" in resources
        or resource in resources
        or (attrs.subresource and f"*/{attrs.subresource}" in resources)
    ):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def subject_matches(subject: dict[str, Any], user: User, binding_ns: str) -> bool:
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "User":
        return bool(name == user.name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.name == f"{_SA_PREFIX}{ns}:{name}"
    return False


class Authorizer:
    """RBAC over the store's roles and bindings. ``lookup(kind, namespace, name)`` reads a Role
    or ClusterRole; ``bindings(kind, namespace)`` lists RoleBindings or ClusterRoleBindings."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def _rt(self, plural: str) -> Any:
        return self.store.catalog.lookup("rbac.authorization.k8s.io", "v1", plural)

    def _role_rules(self, kind: str, namespace: str, name: str) -> list[dict[str, Any]]:
        if kind == "ClusterRole":
            role = self.store.try_get(self._rt("clusterroles"), None, name)
        elif kind == "Role":
            role = self.store.try_get(self._rt("roles"), namespace, name)
        else:
            return []
        if role is None:
            return []
        return [r for r in role.get("rules") or [] if isinstance(r, dict)]

    def rules(self, user: User, namespace: str) -> list[dict[str, Any]]:
        """Every rule that applies to ``user`` in ``namespace`` (cluster-wide rules included)."""
        out: list[dict[str, Any]] = []
        for b in self.store.list_refs(self._rt("clusterrolebindings"))[0]:
            if any(subject_matches(s, user, "") for s in b.get("subjects") or []):
                ref = b.get("roleRef") or {}
                out += self._role_rules("ClusterRole", "", str(ref.get("name", "")))
        if namespace:
            for b in self.store.list_refs(self._rt("rolebindings"), namespace)[0]:
                if any(subject_matches(s, user, namespace) for s in b.get("subjects") or []):
                    ref = b.get("roleRef") or {}
                    out += self._role_rules(str(ref.get("kind", "")), namespace, str(ref.get("name", "")))
        return out

    def allowed(self, user: User, attrs: Attributes) -> bool:
        if user.is_admin:
            return True
        if AUTHENTICATED in user.groups:
            if not attrs.resource_request and attrs.verb == "get" and attrs.path.startswith(_PUBLIC_PATHS):
                return True
            if attrs.verb == "create" and (attrs.group, attrs.resource) in _SELF_REVIEWS:
                return True
        return any(rule_allows(r, attrs) for r in self.rules(user, attrs.namespace))

    def check(self, user: User, attrs: Attributes) -> None:
        """Raise the API server's 403 unless ``user`` may do ``attrs``."""
        if self.allowed(user, attrs):
            return
        if not attrs.resource_request:
            raise ApiError(
                403,
                "Forbidden",
                f'forbidden: User "{user.name}" cannot {attrs.verb} path "{attrs.path}"',
                details={},
            )
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        what = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
        subject = f'{what} "{attrs.name}"' if attrs.name else what
        scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
        details: dict[str, Any] = {"kind": attrs.resource}
        if attrs.group:
            details["group"] = attrs.group
        if attrs.name:
            details["name"] = attrs.name
        raise ApiError(
            403,
            "Forbidden",
            f'{subject} is forbidden: User "{user.name}" cannot {attrs.verb} resource "{resource}" '
            f'in API group "{attrs.group}" {scope}',
            details=details,
        )


# --- the review and token endpoints -------------------------------------------------------------


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _spec(body: Any) -> dict[str, Any]:
    spec = body.get("spec") if isinstance(body, dict) else None
    return spec if isinstance(spec, dict) else {}


def attributes_of(spec: dict[str, Any]) -> Attributes:
    res = spec.get("resourceAttributes")
    if isinstance(res, dict):
        return Attributes(
            verb=str(res.get("verb", "")),
            group=str(res.get("group", "")),
            resource=str(res.get("resource", "")),
            subresource=str(res.get("subresource", "")),
            namespace=str(res.get("namespace", "")),
            name=str(res.get("name", "")),
        )
    non = spec.get("nonResourceAttributes")
    if isinstance(non, dict):
        return Attributes(verb=str(non.get("verb", "")), path=str(non.get("path", "")) or "/")
    raise ApiError(
        422,
        "Invalid",
        "SelfSubjectAccessReview.authorization.k8s.io is invalid: spec.resourceAttributes: Invalid value: "
        '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    )


def access_review(authz: Authorizer, user: User, body: Any, kind: str) -> dict[str, Any]:
    """A SelfSubjectAccessReview (or, for ``kind="SubjectAccessReview"``, one about the user
    the body names) answered with ``status.allowed``."""
    spec = _spec(body)
    if kind == "SubjectAccessReview":
        groups = tuple(str(g) for g in spec.get("groups") or [])
        user = User(str(spec.get("user", "")), groups, str(spec.get("uid", "")))
    allowed = authz.allowed(user, attributes_of(spec))
    status: dict[str, Any] = {"allowed": allowed}
    if allowed and not user.is_admin:
        status["reason"] = "RBAC: allowed by a binding"
    return {
        "kind": kind,
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def rules_review(authz: Authorizer, user: User, body: Any) -> dict[str, Any]:
    """A SelfSubjectRulesReview: what ``kubectl auth can-i --list`` prints."""
    spec = _spec(body)
    namespace = str(spec.get("namespace", ""))
    if user.is_admin:
        resource_rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        non_resource = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
    else:
        resource_rules = [
            {"verbs": ["create"], "apiGroups": [g], "resources": [r]} for g, r in sorted(_SELF_REVIEWS)
        ]
        non_resource = [{"verbs": ["get"], "nonResourceURLs": [p, f"{p}/*"]} for p in _PUBLIC_PATHS]
        for rule in authz.rules(user, namespace):
            if rule.get("nonResourceURLs"):
                non_resource.append(
                    {"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]}
                )
            else:
                entry = {
                    k: rule[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if rule.get(k)
                }
                resource_rules.append(entry)
    return {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False},
    }


def self_review(user: User) -> dict[str, Any]:
    return {
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": _now()},
        "status": {"userInfo": user.info()},
    }


def token_review(issuer: TokenIssuer, body: Any, sa_uid: Any) -> dict[str, Any]:
    """A TokenReview: whether a token is one this server issued (``sa_uid(ns, name)`` is the
    ServiceAccount's current uid, ``None`` once it is gone)."""
    spec = _spec(body)
    claims = issuer.claims(str(spec.get("token", "")))
    status: dict[str, Any] = {"authenticated": False}
    if claims is not None:
        ref = claims.get("kubernetes.io") or {}
        ns, sa = str(ref.get("namespace", "")), (ref.get("serviceaccount") or {})
        uid = str(sa.get("uid", ""))
        if sa_uid(ns, str(sa.get("name", ""))) == uid:
            status = {
                "authenticated": True,
                "user": service_account_user(ns, str(sa.get("name", "")), uid).info(),
                "audiences": claims.get("aud") or [],
            }
    return {
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def token_request(issuer: TokenIssuer, sa: dict[str, Any], body: Any) -> dict[str, Any]:
    """Answer ``POST serviceaccounts/<name>/token`` (what ``kubectl create token`` sends)."""
    spec = dict(_spec(body))
    expiration = spec.get("expirationSeconds", 3600)
    if not isinstance(expiration, int) or isinstance(expiration, bool) or expiration < 600:
        raise ApiError(
            422,
            "Invalid",
            f'TokenRequest.authentication.k8s.io "{sa["metadata"]["name"]}" is invalid: '
            f"spec.expirationSeconds: Invalid value: {expiration}: "
            "may not specify a duration less than 10 minutes",
        )
    audiences = [str(a) for a in spec.get("audiences") or []] or [ISSUER]
    meta = sa["metadata"]
    token, exp = issuer.issue(meta["namespace"], meta["name"], meta["uid"], audiences, expiration)
    spec.update({"audiences": audiences, "expirationSeconds": expiration})
    spec.setdefault("boundObjectRef", None)
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "creationTimestamp": _now()},
        "spec": spec,
        "status": {
            "token": token,
            "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp)),
        },
    }
