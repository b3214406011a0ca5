"""KubeClient: raw-dict access to any Kubernetes kind over lightkube's authenticated HTTP client.

Objects are plain dicts, exactly the JSON the API returns, so every caller (deploy, dns, console,
tests) shares one shape and no generated model classes sit between kumo and the API. lightkube
supplies the kubeconfig handling, auth (tokens, client certs, exec plugins such as
``aws eks get-token``) and the transport; this layer adds kind resolution, watches, server-side
apply and error mapping.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Literal

import httpx2
import msgspec
import orjson
from lightkube.config.client_adapter import AsyncClient as _adapter_async_client
from lightkube.config.client_adapter import ConnectionParams
from lightkube.config.kubeconfig import SingleConfig
from lightkube.core.exceptions import ConfigError

from kumo.errors import ClusterError, UsageError
from kumo.kube.config import load_config
from kumo.kube.errors import ApiError, NotFound, Unreachable, error_for
from kumo.kube.resources import BUILTIN, ResourceInfo, from_discovery

Obj = dict[str, Any]

#: Every request at DEBUG level, as kubectl -v=6 logs them (``GET /api/v1/... 200``).
log = logging.getLogger(__name__)


class ObjList(builtins.list[Obj]):
    """A list answer's items, with the list's resourceVersion (where a watch continues from)."""

    resource_version: str = ""


PatchType = Literal["merge", "json", "strategic", "apply"]

#: Seconds to wait for a TCP (and TLS) connection to the API server; an answer gets ``timeout``.
CONNECT_TIMEOUT = 10.0

_PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


async def connect(
    kubeconfig: str | None = None, context: str | None = None, *, timeout: float = 30.0
) -> KubeClient:
    """A client for ``context`` in ``kubeconfig`` (defaults: $KUBECONFIG / ~/.kube/config, current context).

    Nothing is sent yet; errors about a missing file or context are raised here as UsageError.
    """
    config = load_config(kubeconfig, context)
    params = ConnectionParams(timeout=httpx2.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)))
    try:
        http = _adapter_async_client(_without_trust_store_for_http(config), params)
    except (ConfigError, OSError, ValueError) as exc:
        raise UsageError(
            f"kubeconfig context {config.context_name!r}: cannot set up credentials: {exc}"
        ) from None
    return KubeClient(config, http, timeout=timeout)


def _without_trust_store_for_http(config: SingleConfig) -> SingleConfig:
    """A plain-HTTP server (an emulator, a local proxy) never uses TLS: building a verifying context
    would load the system's trust store (~40 ms a command) for nothing."""
    if not str(config.cluster.server).startswith("http://") or config.cluster.insecure:
        return config
    return config._replace(cluster=msgspec.structs.replace(config.cluster, insecure=True))


class KubeClient:
    """One cluster connection. ``request_count`` counts every HTTP request sent, watches included."""

    def __init__(self, config: SingleConfig, http: httpx2.AsyncClient, *, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout
        #: What failed last (``GET /path: reason``) and since when nothing has answered; see
        #: ``unanswered_for``. Any answer, even an error status, resets it.
        self.last_failure = ""
        self._failing_since: float | None = None
        self.server: str = str(config.cluster.server).rstrip("/")
        self.context: str = config.context_name
        self.namespace: str = config.namespace
        self.request_count = 0
        #: Whether the server serves streaming lists (``sendInitialEvents``); None until one is tried.
        self.streaming_lists: bool | None = None
        self._http = http
        self._kinds: dict[tuple[str, str], ResourceInfo] = dict(BUILTIN)
        self._discovered: dict[str, dict[str, ResourceInfo]] = {}
        self._discovery_lock = asyncio.Lock()

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # -- kinds ---------------------------------------------------------------------------------

    async def resource(self, api_version: str, kind: str) -> ResourceInfo:
        """Plural and scope of a kind: the built-in table first, then discovery (cached per group/version)."""
        known = self._kinds.get((api_version, kind))
        if known is not None:
            return known
        async with self._discovery_lock:
            if api_version not in self._discovered:
                path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
                try:
                    document = await self.request("GET", path)
                except NotFound:
                    document = {}
                self._discovered[api_version] = from_discovery(api_version, document or {})
        info = self._discovered[api_version].get(kind)
        if info is None:
            raise NotFound(
                f"the Kubernetes API at {self.server} does not serve kind {kind} in {api_version}",
                404,
                "NotFound",
                hint="Install the CRD that defines it, or check apiVersion and kind.",
            )
        self._kinds[(api_version, kind)] = info
        return info

    # -- HTTP ----------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Obj | None:
        """One API call; returns the decoded JSON body (None when empty). Errors become ClusterError."""
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        self.request_count += 1
        try:
            response = await self._http.request(
                method, path, params=_clean(params), content=content, headers=headers
            )
        except httpx2.TransportError as exc:
            raise self._unreachable(exc, f"{method} {path}") from None
        except ConfigError as exc:  # exec-plugin auth failed (e.g. aws eks get-token)
            raise ClusterError(f"cannot authenticate to the Kubernetes API at {self.server}: {exc}") from None
        self._failing_since = None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s%s %s", method, path, _query(params), response.status_code)
        if response.status_code >= 400:
            raise self._api_error(response.status_code, response.content, method, path)
        if not response.content:
            return None
        try:
            decoded = response.json()
        except ValueError:
            raise ClusterError(
                f"the Kubernetes API at {self.server} sent a response that is not JSON for {method} {path}"
            ) from None
        return decoded if isinstance(decoded, dict) else {"items": decoded}

    def unanswered_for(self) -> float:
        """Seconds since a request or watch first failed without any answer after it (0 when the
        last one was answered). A run uses it to stop waiting on an API that has gone away."""
        return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since

    def _reason(self, exc: Exception) -> str:
        """Why a request got no answer; a timeout names itself and its length (its text is empty)."""
        if isinstance(exc, httpx2.ConnectTimeout):
            return f"no connection within {min(self.timeout, CONNECT_TIMEOUT):g} s (the connect timeout)"
        if isinstance(exc, httpx2.ReadTimeout):
            return (
                f"no answer within {self.timeout:g} s (the read timeout): the server accepted the "
                "connection but did not respond"
            )
        if isinstance(exc, httpx2.TimeoutException):
            return f"timed out after {self.timeout:g} s ({type(exc).__name__})"
        return str(exc) or type(exc).__name__

    def _unreachable(self, exc: Exception, what: str) -> Unreachable:
        reason = self._reason(exc)
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        self.last_failure = f"{what}: {reason}"
        return Unreachable(
            f"cannot reach the Kubernetes API at {self.server} (context {self.context!r}): {reason}",
            "Check that the cluster is running and that the kubeconfig context points at it.",
        )

    def _api_error(self, code: int, content: bytes, method: str, path: str) -> ApiError:
        status: dict[str, Any] = {}
        try:
            decoded = json.loads(content) if content else {}
            if isinstance(decoded, dict):
                status = decoded
        except ValueError:
            pass
        message = str(status.get("message") or content[:200].decode(errors="replace") or f"HTTP {code}")
        reason = str(status.get("reason") or "")
        hint = None
        if code in (401, 403):
            hint = "Check the credentials of this kubeconfig context, and its RBAC permissions."
        return error_for(code)(
            f"the Kubernetes API at {self.server} refused: {message}", code, reason, status, hint=hint
        )

    # -- CRUD ----------------------------------------------------------------------------------

    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        """The object, or None when it does not exist."""
        info = await self.resource(api_version, kind)
        try:
            return await self.request("GET", self._object_path(info, name, namespace))
        except NotFound:
            return None

    async def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        limit: int | None = None,
        transform: Callable[[Obj], Obj] | None = None,
    ) -> ObjList:
        """All matching objects (every namespace when ``namespace`` is None for a namespaced kind).

        The result's ``resource_version`` is the list's, the point a watch continues from. With
        ``limit`` the list comes in pages of that size, and ``transform`` applies to each object as
        its page arrives: a list of 10,000s of objects never sits in memory whole.
        """
        info = await self.resource(api_version, kind)
        params: dict[str, Any] = {"labelSelector": label_selector, "fieldSelector": field_selector}
        if limit:
            params["limit"] = limit
        items = ObjList()
        while True:
            page = await self.request("GET", info.collection_path(namespace), params=params) or {}
            for item in page.get("items") or []:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                items.append(transform(item) if transform is not None else item)
            metadata = page.get("metadata") or {}
            items.resource_version = str(metadata.get("resourceVersion") or items.resource_version)
            token = metadata.get("continue")
            if not token:
                return items
            params["continue"] = token

    async def create(self, obj: Obj, *, dry_run: bool = False) -> Obj:
        info = await self.resource(obj["apiVersion"], obj["kind"])
        namespace = self._ns(info, obj.get("metadata", {}).get("namespace"))
        params = {"dryRun": "All" if dry_run else None}
        return await self.request("POST", info.collection_path(namespace), params=params, body=obj) or {}

    async def replace(self, obj: Obj, *, subresource: str | None = None) -> Obj:
        """PUT the whole object; a stale metadata.resourceVersion gives Conflict."""
        info = await self.resource(obj["apiVersion"], obj["kind"])
        metadata = obj.get("metadata", {})
        path = self._object_path(info, metadata["name"], metadata.get("namespace"), subresource)
        return await self.request("PUT", path, body=obj) or {}

    async def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        *,
        subresource: str | None = None,
        field_manager: str | None = None,
    ) -> Obj:
        info = await self.resource(api_version, kind)
        path = self._object_path(info, name, namespace, subresource)
        params = {"fieldManager": field_manager}
        content_type = _PATCH_CONTENT_TYPES[patch_type]
        return await self.request("PATCH", path, params=params, body=patch, content_type=content_type) or {}

    async def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: Literal["Background", "Foreground", "Orphan"] = "Background",
    ) -> bool:
        """Delete; False when it was already gone."""
        info = await self.resource(api_version, kind)
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        try:
            await self.request("DELETE", self._object_path(info, name, namespace), body=body)
        except NotFound:
            return False
        return True

    async def apply(
        self, obj: Obj, field_manager: str = "kumo", force: bool = False, *, dry_run: bool = False
    ) -> Obj:
        """Server-side apply: the server merges ``obj`` as the fields owned by ``field_manager``."""
        info = await self.resource(obj["apiVersion"], obj["kind"])
        metadata = obj.get("metadata", {})
        path = self._object_path(info, metadata["name"], metadata.get("namespace"))
        params = {
            "fieldManager": field_manager,
            "force": "true" if force else None,
            "dryRun": "All" if dry_run else None,
        }
        # JSON is YAML, so the apply-patch content type takes the JSON body as is.
        return (
            await self.request(
                "PATCH", path, params=params, body=obj, content_type=_PATCH_CONTENT_TYPES["apply"]
            )
            or {}
        )

    async def pod_log(
        self,
        namespace: str,
        name: str,
        container: str | None = None,
        tail_lines: int = 100,
        *,
        previous: bool = False,
    ) -> str:
        """The last ``tail_lines`` lines of a Pod's log (of ``container``, or its only container);
        ``previous``: of the container's last terminated run, as after a crash."""
        info = await self.resource("v1", "Pod")
        path = self._object_path(info, name, namespace, "log")
        params = _clean(
            {"container": container, "tailLines": tail_lines, "previous": "true" if previous else None}
        )
        self.request_count += 1
        try:
            response = await self._http.request("GET", path, params=params, headers={"Accept": "text/plain"})
        except httpx2.TransportError as exc:
            raise self._unreachable(exc, f"GET {path}") from None
        except ConfigError as exc:
            raise ClusterError(f"cannot authenticate to the Kubernetes API at {self.server}: {exc}") from None
        self._failing_since = None
        if response.status_code >= 400:
            raise self._api_error(response.status_code, response.content, "GET", path)
        return response.content.decode(errors="replace")

    async def server_version(self) -> Obj:
        return await self.request("GET", "/version") or {}

    # -- watch ---------------------------------------------------------------------------------

    async def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
        *,
        send_initial_events: bool = False,
    ) -> AsyncIterator[tuple[str, Obj]]:
        """Yield (ADDED|MODIFIED|DELETED|BOOKMARK, obj) until the server ends the stream.

        ``send_initial_events``: a streaming list (the WatchList feature): the server first sends
        every current object as ADDED, then a BOOKMARK annotated ``k8s.io/initial-events-end``,
        then the changes, so one request does what a list and a watch do. A server without it
        refuses the parameters (400/422).

        An ERROR event raises: Gone for 410 (the caller relists), ApiError otherwise. A dropped
        connection raises ClusterError.
        """
        info = await self.resource(api_version, kind)
        params = {
            "watch": "true",
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "resourceVersion": resource_version,
            "timeoutSeconds": timeout_seconds,
            "allowWatchBookmarks": "true" if allow_bookmarks or send_initial_events else None,
            "sendInitialEvents": "true" if send_initial_events else None,
            "resourceVersionMatch": "NotOlderThan" if send_initial_events else None,
        }
        self.request_count += 1
        timeout = httpx2.Timeout(None, connect=CONNECT_TIMEOUT)
        try:
            async with self._http.stream(
                "GET",
                info.collection_path(namespace),
                params=_clean(params),
                timeout=timeout,
                headers={"Accept": "application/json"},
            ) as response:
                self._failing_since = None
                if log.isEnabledFor(logging.DEBUG):
                    path = info.collection_path(namespace)
                    log.debug("WATCH %s%s %s", path, _query(params), response.status_code)
                if response.status_code >= 400:
                    content = await response.aread()
                    raise self._api_error(
                        response.status_code, content, "GET", info.collection_path(namespace)
                    )
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    event = orjson.loads(line)  # several times the standard library's speed
                    event_type = str(event.get("type", ""))
                    obj = event.get("object") or {}
                    if event_type == "ERROR":
                        code = int(obj.get("code") or 500)
                        message = (
                            f"the Kubernetes API at {self.server} ended a watch: {obj.get('message', '')}"
                        )
                        raise error_for(code)(message, code, str(obj.get("reason") or ""), obj)
                    if event_type != "BOOKMARK":
                        obj.setdefault("apiVersion", api_version)
                        obj.setdefault("kind", kind)
                    yield event_type, obj
        except httpx2.TransportError as exc:
            raise self._unreachable(exc, f"watch {kind}") from None
        except ConfigError as exc:
            raise ClusterError(f"cannot authenticate to the Kubernetes API at {self.server}: {exc}") from None

    def _ns(self, info: ResourceInfo, namespace: str | None) -> str | None:
        if not info.namespaced:
            return None
        return namespace or self.namespace

    def _object_path(
        self, info: ResourceInfo, name: str, namespace: str | None, subresource: str | None = None
    ) -> str:
        path = info.object_path(name, self._ns(info, namespace))
        return f"{path}/{subresource}" if subresource else path


def _query(params: dict[str, Any] | None) -> str:
    cleaned = _clean(params)
    return "?" + "&".join(f"{k}={v}" for k, v in cleaned.items()) if cleaned else ""


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: str(v) for k, v in params.items() if v is not None}
