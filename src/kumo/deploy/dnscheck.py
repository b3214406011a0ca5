"""Does a hostname resolve yet? Asked of the system resolver, or of a given server (the sandbox's)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dnspython is imported when a name is looked up: `kumo up --dns-timeout 0` never does
    import dns.asyncresolver


def _resolver(server: str | None) -> dns.asyncresolver.Resolver:
    import dns.asyncresolver

    if server is None:
        return dns.asyncresolver.Resolver()
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host or server]
    if port:
        resolver.port = int(port)
    return resolver


async def resolve(hostname: str, server: str | None = None, timeout: float = 2.0) -> list[str]:
    """Addresses or CNAME targets of ``hostname``; empty when it does not resolve (yet)."""
    import dns.exception

    resolver = _resolver(server)
    resolver.lifetime = timeout
    answers: list[str] = []
    for rdtype in ("A", "CNAME"):
        try:
            answer = await resolver.resolve(hostname, rdtype, raise_on_no_answer=False)
        except (dns.exception.DNSException, OSError):
            continue
        answers.extend(str(r).rstrip(".") for r in answer)
        if answers:
            break
    return answers


async def wait_resolves(hostname: str, timeout: float, server: str | None = None) -> list[str]:
    """Poll until ``hostname`` resolves or ``timeout`` passes; returns what it resolved to (maybe empty)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await resolve(hostname, server, timeout=min(2.0, max(0.2, deadline - loop.time())))
        if found or loop.time() >= deadline:
            return found
        await asyncio.sleep(min(1.0, max(0.0, deadline - loop.time())))
