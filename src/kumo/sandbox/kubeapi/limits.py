"""Bounds on what one request may carry, checked before anything is decoded into the store.

The real API server caps a request body at 3 MiB (413 RequestEntityTooLarge), refuses YAML whose
aliases expand excessively, and answers 400 for a body it cannot decode. The emulator does the
same, and also bounds nesting: orjson, which serialises every stored object, stops at 254 levels,
and the managed fields of an object nest a few levels deeper than the object itself.
"""

from __future__ import annotations

from typing import Any

from kumo.sandbox.kubeapi import errors

MAX_BODY_BYTES = 3 * 1024 * 1024  # the API server's limit for a request body
MAX_DEPTH = 100  # levels of nesting in a request body
# YAML aliases (*name) may repeat at most this many values in all (go-yaml refuses "excessive
# aliasing" too): a 441-byte "billion laughs" apply body otherwise expands to gigabytes.
MAX_ALIAS_VALUES = 100_000


def too_large(size: int | None = None) -> errors.ApiError:
    seen = f" (at least {size} bytes)" if size is not None else ""
    return errors.ApiError(
        413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY_BYTES}{seen}"
    )


def check_shape(value: Any) -> None:
    """Raise 400 BadRequest for a decoded body nested deeper than ``MAX_DEPTH``, whose shared
    (aliased) values repeat more than ``MAX_ALIAS_VALUES`` values, or that contains itself.

    Shared values are measured once (memoised by identity), so an alias bomb costs its size in the
    request, not its expansion."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    repeated = 0

    def measure(node: Any, depth: int) -> int:
        nonlocal repeated
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key in on_path:
            raise errors.bad_request("the request body could not be decoded: an alias refers to itself")
        if key in sizes:
            repeated += sizes[key]
            if repeated > MAX_ALIAS_VALUES:
                raise errors.bad_request(
                    "the request body could not be decoded: yaml: document contains excessive aliasing "
                    f"(aliases repeat more than {MAX_ALIAS_VALUES} values)"
                )
            return sizes[key]
        if depth > MAX_DEPTH:
            raise errors.bad_request(
                f"the request body could not be decoded: it is nested more than {MAX_DEPTH} levels deep"
            )
        on_path.add(key)
        size = 1 + sum(
            measure(child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
        )
        on_path.discard(key)
        sizes[key] = size
        return size

    measure(value, 0)
