"""The HTTP layer: a plain ASGI app that maps Kubernetes REST paths onto :class:`Store` calls.

It parses URLs, query parameters and bodies, serialises with orjson, and turns every
:class:`ApiError` into a ``Status`` body. Anything unexpected still answers with a ``Status``
(500 InternalError) rather than a dropped connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
import yaml

from kumo.sandbox.kubeapi import (
    certificates,
    errors,
    eviction,
    limits,
    logs,
    openapi,
    protobuf,
    rbac,
    scale,
    tables,
)
from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.selectors import make_filter
from kumo.sandbox.kubeapi.store import Store

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

VERSION_INFO = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.0-kumo",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.24.0",
    "compiler": "gc",
    "platform": "linux/amd64",
    "emulationMajor": "1",
    "emulationMinor": "33",
}

_PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}

try:
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _YamlLoader = yaml.SafeLoader


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


class Request:
    __slots__ = ("body", "headers", "method", "parts", "path", "query", "user")

    def __init__(self, scope: Scope, body: bytes) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query: dict[str, str] = {
            k: v[-1]
            for k, v in parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True).items()
        }
        self.headers: dict[str, str] = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        self.body = body
        self.parts = [p for p in self.path.split("/") if p]
        self.user: rbac.User = rbac.ADMIN

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1", "yes")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/json").split(";")[0].strip().lower()

    @property
    def wants_table(self) -> bool:
        accept = self.headers.get("accept", "")
        return "as=Table" in accept

    @property
    def wants_metadata(self) -> bool:
        """``Accept: application/json;as=PartialObjectMetadata(List);v=v1;g=meta.k8s.io`` first:
        the metadata-only form that metadata informers and the dynamic client ask for."""
        first = self.headers.get("accept", "").split(",")[0]
        params = {
            k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in first.split(";")[1:])
        }
        as_kind = params.get("as", "")
        return (
            as_kind in ("PartialObjectMetadata", "PartialObjectMetadataList")
            and params.get("g") == "meta.k8s.io"
        )

    def field_manager(self) -> str:
        fm = self.query.get("fieldManager")
        if fm:
            return fm
        ua = self.headers.get("user-agent", "unknown")
        return ua.split("/")[0].strip() or "unknown"


class Response:
    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else orjson.dumps(body)
        self.content_type = content_type
        self.headers: list[tuple[bytes, bytes]] = []


def _json(status: int, body: Any) -> Response:
    return Response(status, body)


def _partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def _verb(method: str, named: bool, watch: bool) -> str:
    """The RBAC verb of a resource request."""
    if method == "GET":
        return "watch" if watch else ("get" if named else "list")
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


class KubeApp:
    """ASGI application serving one :class:`Store`."""

    def __init__(self, store: Store, *, bookmark_interval: float = 5.0, server_address: str = "") -> None:
        self.store = store
        self.bookmark_interval = bookmark_interval
        self.server_address = server_address
        self._closing = False
        #: HTTP requests received (watches included): what a client's request budget is checked against.
        self.requests_received = 0
        self.tokens = rbac.TokenIssuer()
        self.authz = rbac.Authorizer(store)
        #: more ways to authenticate a bearer token (the sandbox adds EKS's); None: not theirs
        self.authenticators: list[Callable[[str], rbac.User | None]] = []

    def closing(self) -> None:
        """Make open watches end, so the server can shut down promptly."""
        self._closing = True
        self.store.close_watchers()

    # --- ASGI entry -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        self.requests_received += 1
        chunks = []
        more = True
        size = 0
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size <= limits.MAX_BODY_BYTES:
                chunks.append(chunk)  # past the limit the rest is read and dropped, never kept
            more = msg.get("more_body", False)
        req = Request(scope, b"".join(chunks))
        try:
            if size > limits.MAX_BODY_BYTES:
                raise limits.too_large(size)
            result = await self.dispatch(req, receive, send)
        except ApiError as exc:
            result = _json(exc.code, exc.status())
        except Exception as exc:  # never drop a connection without a Status
            log.exception("internal error serving %s %s", req.method, req.path)
            result = _json(500, ApiError(500, "InternalError", f"an error on the server: {exc}").status())
        if result is None:
            return
        await send(
            {
                "type": "http.response.start",
                "status": result.status,
                "headers": [
                    (b"content-type", result.content_type.encode()),
                    (b"content-length", str(len(result.body)).encode()),
                    *result.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": result.body})

    # --- routing ----------------------------------------------------------------------------

    def _authenticate(self, req: Request) -> rbac.User:
        """The kubeconfig's token (or none: the emulator listens on loopback only) is the admin;
        a ServiceAccount token this server issued is that ServiceAccount; anything else is a 401."""
        auth = req.headers.get("authorization", "")
        if not auth:
            return rbac.ADMIN
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise rbac.unauthorized()
        if token == rbac.ADMIN_TOKEN:
            return rbac.ADMIN
        for authenticate in self.authenticators:
            user = authenticate(token)
            if user is not None:
                return user
        claims = self.tokens.claims(token)
        if claims is None:
            raise rbac.unauthorized()
        ref = claims.get("kubernetes.io") or {}
        ns = str(ref.get("namespace", ""))
        name = str((ref.get("serviceaccount") or {}).get("name", ""))
        uid = str((ref.get("serviceaccount") or {}).get("uid", ""))
        if self._sa_uid(ns, name) != uid:
            raise rbac.unauthorized()  # the ServiceAccount was deleted (or recreated)
        return rbac.service_account_user(ns, name, uid)

    def _sa_uid(self, namespace: str, name: str) -> str | None:
        rt = self.store.catalog.lookup("", "v1", "serviceaccounts")
        assert rt is not None
        sa = self.store.try_get(rt, namespace, name)
        return None if sa is None else str(sa["metadata"].get("uid", ""))

    async def dispatch(self, req: Request, receive: Receive, send: Send) -> Response | None:
        p = req.parts
        req.user = self._authenticate(req)
        is_resource = (len(p) >= 3 and p[:2] == ["api", "v1"]) or (len(p) >= 4 and p[0] == "apis")
        if not is_resource and not req.user.is_admin:
            verb = {"GET": "get", "HEAD": "head", "POST": "post", "PUT": "put", "DELETE": "delete"}.get(
                req.method, req.method.lower()
            )
            self.authz.check(req.user, rbac.Attributes(verb=verb, path=req.path.rstrip("/") or "/"))
        if req.method == "GET":
            if p in (["version"],):
                return _json(200, VERSION_INFO)
            if p and p[0] in ("healthz", "readyz", "livez"):
                return Response(200, b"ok", "text/plain")
            if p == ["api"]:
                return _json(
                    200,
                    {
                        "kind": "APIVersions",
                        "versions": ["v1"],
                        "serverAddressByClientCIDRs": [
                            {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}
                        ],
                    },
                )
            if p == ["apis"]:
                return _json(200, self._group_list())
            if len(p) == 2 and p[0] == "apis":
                grp = self._group(p[1])
                if grp is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                return _json(200, grp)
            if p == ["api", "v1"]:
                return _json(200, self._resource_list("", "v1"))
            if len(p) == 3 and p[0] == "apis" and self.store.catalog.in_group_version(p[1], p[2]):
                return _json(200, self._resource_list(p[1], p[2]))
        if req.method == "GET" and p[:2] == ["openapi", "v3"]:
            if len(p) == 2:
                return _json(200, openapi.index(self.store.catalog))
            rest = p[2:]
            doc = None
            if rest[:1] == ["api"] and len(rest) == 2:
                doc = openapi.group_version_doc(self.store.catalog, "", rest[1])
            elif rest[:1] == ["apis"] and len(rest) == 3:
                doc = openapi.group_version_doc(self.store.catalog, rest[1], rest[2])
            if doc is not None:
                return _json(200, doc)
        if req.method == "GET" and p == ["openapi", "v2"]:
            accept = req.headers.get("accept", "")
            if "protobuf" in accept and "json" not in accept and "*/*" not in accept:
                raise ApiError(406, "NotAcceptable", "only application/json is served for /openapi/v2")
            return _json(200, openapi.swagger_v2(self.store.catalog))
        if p and p[0] in ("openapi", "swagger.json"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if len(p) >= 3 and p[0] == "api" and p[1] == "v1":
            return await self._resource(req, "", "v1", p[2:], receive, send)
        if len(p) >= 4 and p[0] == "apis":
            return await self._resource(req, p[1], p[2], p[3:], receive, send)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    # --- discovery --------------------------------------------------------------------------

    def _group(self, group: str) -> dict[str, Any] | None:
        versions = self.store.catalog.groups().get(group)
        if not versions or not group:
            return None
        gv = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": gv,
            "preferredVersion": gv[0],
        }

    def _group_list(self) -> dict[str, Any]:
        groups = []
        for g in self.store.catalog.groups():
            grp = self._group(g)
            if grp is not None:
                grp.pop("kind")
                grp.pop("apiVersion")
                groups.append(grp)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        for rt in self.store.catalog.in_group_version(group, version):
            entry: dict[str, Any] = {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(rt.verbs),
            }
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            if rt.categories:
                entry["categories"] = list(rt.categories)
            resources.append(entry)
            for sub in rt.subresources:
                resources.append(
                    {
                        "name": f"{rt.plural}/{sub}",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": {"scale": "Scale", "eviction": "Eviction", "token": "TokenRequest"}.get(
                            sub, rt.kind
                        ),
                        **({"group": "autoscaling", "version": "v1"} if sub == "scale" else {}),
                        **({"group": "policy", "version": "v1"} if sub == "eviction" else {}),
                        **({"group": "authentication.k8s.io", "version": "v1"} if sub == "token" else {}),
                        "verbs": {"log": ["get"], "eviction": ["create"], "token": ["create"]}.get(
                            sub, ["get", "patch", "update"]
                        ),
                    }
                )
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

    # --- resources --------------------------------------------------------------------------

    async def _resource(
        self, req: Request, group: str, version: str, rest: list[str], receive: Receive, send: Send
    ) -> Response | None:
        mode = req.query.get("fieldValidation", "Warn")
        self.store.admission.strict_fields = mode == "Strict"
        self.store.admission.warnings = []
        try:
            result = await self._resource_inner(req, group, version, rest, receive, send)
            if result is not None and self.store.admission.warnings and mode != "Ignore":
                result.headers += [
                    (b"warning", f"299 - {json.dumps(w)}".encode())
                    for w in dict.fromkeys(self.store.admission.warnings)
                ]
            return result
        finally:
            self.store.admission.strict_fields = False
            self.store.admission.warnings = []

    async def _resource_inner(
        self, req: Request, group: str, version: str, rest: list[str], receive: Receive, send: Send
    ) -> Response | None:
        namespace: str | None = None
        cat = self.store.catalog
        if rest[0] == "watch":  # legacy /watch/ prefix
            req.query["watch"] = "true"
            rest = rest[1:]
            if not rest:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rest[0] == "namespaces" and len(rest) >= 3 and group == "" and rest[2] in ("status", "finalize"):
            pass  # a namespace's own subresource
        elif rest[0] == "namespaces" and len(rest) >= 3:
            namespace = rest[1]
            rest = rest[2:]
        rt = cat.lookup(group, version, rest[0])
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (sub is not None and sub not in rt.subresources and sub != "finalize"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub == "finalize":
            sub = None
        if sub == "log" and req.method != "GET":
            raise errors.method_not_allowed()
        if sub == "eviction" and req.method != "POST":
            raise errors.method_not_allowed()
        if namespace is not None and not rt.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        m = req.method
        self.authz.check(
            req.user,
            rbac.Attributes(
                verb=_verb(m, name is not None, req.flag("watch")),
                group=rt.group,
                resource=rt.plural,
                subresource=sub or "",
                namespace=namespace or "",
                name=name or "",
            ),
        )
        if rt.virtual and m == "POST" and rt.group in ("authentication.k8s.io", "authorization.k8s.io"):
            return _json(201, self._review(req, rt))
        if sub == "token" and m == "POST" and name is not None:
            sa = self.store.get_ref(rt, namespace, name)
            return _json(201, rbac.token_request(self.tokens, sa, self._body(req)))
        if sub == "token":
            raise errors.method_not_allowed()
        if name is None:
            if m == "GET":
                if req.flag("watch"):
                    await self._watch(req, rt, namespace, receive, send)
                    return None
                return self._list(req, rt, namespace)
            if m == "POST":
                if rt.namespaced and namespace is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                body = self._body(req)
                if rt.store_key == ("certificates.k8s.io", "certificatesigningrequests"):
                    body = certificates.prepare_create(body, req.user)
                obj = self.store.create(rt, namespace, body, req.field_manager(), self._dry(req))
                return _json(201, obj)
            if m == "DELETE":
                return self._delete_collection(req, rt, namespace)
            raise errors.method_not_allowed()
        if rt.namespaced and namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub == "eviction":
            if m != "POST":
                raise errors.method_not_allowed()
            # the body is an Eviction (JSON or protobuf); nothing in it changes what happens here
            eviction.evict(self.store, rt, namespace, name, self._dry(req))
            return _json(
                201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
            )
        if m == "GET":
            if req.flag("watch"):
                req.query["fieldSelector"] = f"metadata.name={name}"
                await self._watch(req, rt, namespace, receive, send)
                return None
            obj = self.store.get_ref(rt, namespace, name)
            if sub == "log":
                return await self._pod_log(req, rt, obj, receive, send)
            if sub == "scale":
                return _json(200, scale.scale_of(rt, obj))
            if req.wants_table:
                return _json(
                    200,
                    tables.table(
                        rt,
                        [obj],
                        obj["metadata"].get("resourceVersion", ""),
                        req.query.get("includeObject", "Metadata"),
                    ),
                )
            if req.wants_metadata:
                return _json(200, _partial(obj))
            return _json(200, obj)
        if m == "PUT":
            if sub == "scale":
                obj = scale.update_scale(
                    self.store, rt, namespace, name, self._body(req), req.field_manager(), self._dry(req)
                )
            elif sub == "approval":
                old = self.store.get_ref(rt, namespace, name)
                decided = certificates.approval(old, self._body(req), self.store.now())
                obj = self.store.update(
                    rt, namespace, name, decided, req.field_manager(), "status", self._dry(req)
                )
            else:
                obj = self.store.update(
                    rt, namespace, name, self._body(req), req.field_manager(), sub, self._dry(req)
                )
            return _json(200, obj)
        if m == "PATCH":
            ptype = _PATCH_TYPES.get(req.content_type)
            if ptype is None:
                raise errors.unsupported_media(req.content_type)
            body = self._body(req, yaml_ok=ptype == "apply")
            if sub == "scale" and ptype != "apply":
                obj = scale.patch_scale(
                    self.store, rt, namespace, name, ptype, body, req.field_manager(), self._dry(req)
                )
                return _json(200, obj)
            existed = ptype != "apply" or self.store.try_get(rt, namespace, name) is not None
            obj = self.store.patch(
                rt,
                namespace,
                name,
                ptype,
                body,
                req.query.get("fieldManager") or (None if ptype == "apply" else req.field_manager()),
                req.flag("force"),
                sub,
                self._dry(req),
            )
            return _json(200 if existed else 201, obj)
        if m == "DELETE":
            opts = self._delete_opts(req)
            obj = self.store.delete(
                rt,
                namespace,
                name,
                opts.get("propagationPolicy"),
                opts.get("preconditions"),
                self._dry(req) or bool(opts.get("dryRun")),
                opts.get("gracePeriodSeconds"),
            )
            return _json(200, obj)
        raise errors.method_not_allowed()

    def _review(self, req: Request, rt: ResourceType) -> dict[str, Any]:
        body = self._body(req)
        if rt.plural == "selfsubjectreviews":
            return rbac.self_review(req.user)
        if rt.plural == "tokenreviews":
            return rbac.token_review(self.tokens, body, self._sa_uid)
        if rt.plural == "selfsubjectrulesreviews":
            return rbac.rules_review(self.authz, req.user, body)
        return rbac.access_review(self.authz, req.user, body, rt.kind)

    async def _pod_log(
        self, req: Request, rt: ResourceType, pod: dict[str, Any], receive: Receive, send: Send
    ) -> Response | None:
        """``pods/log`` (see :mod:`logs`): one answer, or with ``follow`` a stream that stays open."""
        opts = logs.LogOptions(req.query, time.time())
        name, found = logs.read(pod, opts, req.query.get("container"))
        first = opts.render(found, first=True)
        if not opts.follow:
            return Response(200, first, "text/plain")
        gone = asyncio.Event()

        async def wait_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        async def write(chunk: bytes) -> bool:
            if gone.is_set() or self._closing:
                return False
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            return True

        listener = asyncio.ensure_future(wait_disconnect())
        try:
            headers = [(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await write(first)
            await logs.follow(self.store, rt, pod, name, found, len(first), opts, write)
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass
        finally:
            listener.cancel()
        return None

    def _dry(self, req: Request) -> bool:
        return "dryRun" in req.query and req.query["dryRun"] != ""

    def _body(self, req: Request, yaml_ok: bool = False) -> Any:
        if not req.body.strip():
            raise errors.bad_request("the request body is empty")
        ct = req.content_type
        if ct == protobuf.CONTENT_TYPE:
            return protobuf.decode(req.body)
        try:
            if yaml_ok or ct in ("application/yaml", "application/x-yaml", "text/yaml"):
                if req.body.lstrip()[:1] == b"{":
                    # JSON is YAML, and clients (kubectl, kumo) send apply patches as JSON:
                    # decoded as JSON it costs a hundredth of the YAML parser's time
                    with contextlib.suppress(orjson.JSONDecodeError):
                        decoded = orjson.loads(req.body)
                        limits.check_shape(decoded)
                        return decoded
                loaded = yaml.load(req.body, Loader=_YamlLoader)
                limits.check_shape(loaded)  # before orjson expands aliases or recurses
                # YAML has timestamps, sets, binary and non-string keys; the API speaks JSON
                return orjson.loads(orjson.dumps(loaded, default=_jsonable, option=orjson.OPT_NON_STR_KEYS))
            decoded = orjson.loads(req.body)
            limits.check_shape(decoded)
            return decoded
        except RecursionError as exc:  # the YAML constructor recurses per level
            raise errors.bad_request(
                f"the request body could not be decoded: nested more than {limits.MAX_DEPTH} levels deep"
            ) from exc
        except (orjson.JSONDecodeError, orjson.JSONEncodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise errors.bad_request(
                f"the request body could not be decoded: {str(exc).splitlines()[0]}"
            ) from exc

    def _delete_opts(self, req: Request) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        if req.body.strip() and req.content_type == protobuf.CONTENT_TYPE:
            opts = protobuf.decode(req.body)
        elif req.body.strip():
            try:
                parsed = orjson.loads(req.body)
            except orjson.JSONDecodeError as exc:
                raise errors.bad_request(f"the request body could not be decoded: {exc}") from exc
            if isinstance(parsed, dict):
                opts = parsed
        if "propagationPolicy" in req.query:
            opts["propagationPolicy"] = req.query["propagationPolicy"]
        if req.query.get("orphanDependents") == "true" or opts.get("orphanDependents") is True:
            opts.setdefault("propagationPolicy", "Orphan")
        grace = req.query.get("gracePeriodSeconds", opts.get("gracePeriodSeconds"))
        if grace is not None:
            try:
                opts["gracePeriodSeconds"] = int(grace)
            except (TypeError, ValueError) as exc:
                raise errors.bad_request(f"gracePeriodSeconds: Invalid value: {grace!r}") from exc
        pol = opts.get("propagationPolicy")
        if pol not in (None, "Background", "Foreground", "Orphan"):
            raise errors.bad_request(f"propagationPolicy: Unsupported value: {pol!r}")
        return opts

    def _list(self, req: Request, rt: ResourceType, namespace: str | None) -> Response:
        pred = make_filter(req.query.get("labelSelector"), req.query.get("fieldSelector"))
        limit_s = req.query.get("limit")
        try:
            limit = int(limit_s) if limit_s else None
        except ValueError as exc:
            raise errors.bad_request(f"invalid limit: {limit_s}") from exc
        if limit is not None and limit < 0:
            raise errors.bad_request(f"limit: Invalid value: {limit}: must be greater than or equal to 0")
        items, rv, cont, remaining = self.store.list_refs(
            rt, namespace, pred, limit, req.query.get("continue")
        )
        if req.wants_table:
            return _json(200, tables.table(rt, items, rv, req.query.get("includeObject", "Metadata"), cont))
        meta: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
            if remaining is not None:
                meta["remainingItemCount"] = remaining
        if req.wants_metadata:
            partial = [_partial(o) for o in items]
            return _json(
                200,
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": partial,
                },
            )
        return _json(
            200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items}
        )

    def _delete_collection(self, req: Request, rt: ResourceType, namespace: str | None) -> Response:
        if "deletecollection" not in rt.verbs:
            raise errors.method_not_allowed()
        pred = make_filter(req.query.get("labelSelector"), req.query.get("fieldSelector"))
        opts = self._delete_opts(req)
        items = self.store.delete_collection(
            rt, namespace, pred, opts.get("propagationPolicy"), self._dry(req)
        )
        return _json(
            200,
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": items,
            },
        )

    # --- watch ------------------------------------------------------------------------------

    async def _watch(
        self, req: Request, rt: ResourceType, namespace: str | None, receive: Receive, send: Send
    ) -> None:
        pred = make_filter(req.query.get("labelSelector"), req.query.get("fieldSelector"))
        send_initial = req.flag("sendInitialEvents")
        bookmarks = req.flag("allowWatchBookmarks")
        table = req.wants_table
        metadata_only = req.wants_metadata
        include = req.query.get("includeObject", "Metadata")
        timeout_s = req.query.get("timeoutSeconds")
        try:
            timeout = float(timeout_s) if timeout_s else None
        except ValueError as exc:
            raise errors.bad_request(f"invalid timeoutSeconds: {timeout_s}") from exc
        try:
            watcher, backlog = self.store.watch(
                rt, namespace, pred, req.query.get("resourceVersion"), send_initial
            )
        except ApiError as exc:
            if exc.code != 410:
                raise
            # the real server answers 200 and reports expiry as an ERROR event
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": orjson.dumps({"type": "ERROR", "object": exc.status()}) + b"\n",
                }
            )
            return

        def encode(typ: str, obj: dict[str, Any], line: bytes | None) -> bytes:
            if table:
                return (
                    orjson.dumps(
                        {
                            "type": typ,
                            "object": tables.table(
                                rt, [obj], obj["metadata"].get("resourceVersion", ""), include
                            ),
                        }
                    )
                    + b"\n"
                )
            if metadata_only:
                return orjson.dumps({"type": typ, "object": _partial(obj)}) + b"\n"
            return line if line is not None else orjson.dumps({"type": typ, "object": obj}) + b"\n"

        def bookmark(initial_end: bool = False) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(self.store.resource_version)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return (
                orjson.dumps(
                    {
                        "type": "BOOKMARK",
                        "object": {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta},
                    }
                )
                + b"\n"
            )

        disconnected = asyncio.Event()

        async def wait_disconnect() -> None:
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    disconnected.set()
                    return

        listener = asyncio.ensure_future(wait_disconnect())
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
                }
            )
            first = b"".join(encode(t, o, ln) for t, o, ln in backlog)
            if send_initial and bookmarks:
                first += bookmark(initial_end=True)
            await send({"type": "http.response.body", "body": first, "more_body": True})
            last_bookmark = time.monotonic()
            while not disconnected.is_set() and not self._closing:
                wait = 1.0
                if bookmarks:
                    wait = min(wait, max(0.01, last_bookmark + self.bookmark_interval - time.monotonic()))
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    wait = min(wait, left)
                try:
                    item = await asyncio.wait_for(watcher.queue.get(), wait)
                except TimeoutError:
                    item = None
                chunk = b""
                closing = False
                while item is not None:
                    if item[0] == "CLOSE":
                        closing = True
                        break
                    chunk += encode(*item)
                    item = watcher.queue.get_nowait() if not watcher.queue.empty() else None
                if bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval:
                    chunk += bookmark()
                    last_bookmark = time.monotonic()
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if closing:
                    break
            if not disconnected.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass
        finally:
            self.store.unwatch(watcher)
            listener.cancel()
