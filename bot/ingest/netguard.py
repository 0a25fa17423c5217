"""Refuse feed URLs that point inside the host's network (SSRF), at add time and at fetch time."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class UnsafeURLError(ValueError):
    """The URL is not an http(s) address on the public internet."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str, allow_private: bool) -> str:
    """Validate scheme and, for literal IPs, the address; return the host name."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURLError(
            f"only http:// and https:// feeds are allowed, not {parts.scheme or 'a bare path'}:"
        )
    host = parts.hostname
    if not host:
        raise UnsafeURLError("the URL has no host name")
    if parts.username or parts.password:
        raise UnsafeURLError("URLs with credentials in them are not accepted")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not allow_private and not is_public_address(host):
        raise UnsafeURLError(
            f"{host} is a private, loopback or link-local address; feeds must be public "
            "(set network.allow_private_addresses: true only for local testing)"
        )
    if host.lower() == "localhost" and not allow_private:
        raise UnsafeURLError("localhost is not a public address")
    return host


async def check_resolves_public(host: str, port: int | None, allow_private: bool) -> None:
    """Resolve the host and refuse it if any address is not public."""
    if allow_private:
        return
    resolver = ThreadedResolver()
    try:
        results = await resolver.resolve(host, port or 0, socket.AF_UNSPEC)
    except OSError as exc:
        raise UnsafeURLError(f"cannot resolve {host}: {exc}") from exc
    finally:
        await resolver.close()
    bad = [r["host"] for r in results if not is_public_address(r["host"])]
    if bad:
        raise UnsafeURLError(f"{host} resolves to a non-public address ({bad[0]})")


class GuardedResolver(AbstractResolver):
    """Resolver for the fetch client: drops non-public answers, so DNS rebinding and
    redirects to internal names cannot reach the host's network."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return results
        safe = [r for r in results if is_public_address(r["host"])]
        if not safe:
            raise OSError(f"{host} resolves only to non-public addresses")
        return safe

    async def close(self) -> None:
        await self._inner.close()
