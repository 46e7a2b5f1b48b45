"""Outgoing webhook connections that reach public servers only (no SSRF, no DNS rebinding).

The form refuses private and loopback addresses written as such, but a public-looking name
can resolve to ``10.0.0.5`` or to the metadata service, today or after its owner changes the
DNS record. So, in production, each delivery resolves the name itself, refuses if any answer
is not a global address, and connects to the address it checked (TLS still verifies the
certificate against the name), leaving no gap between the check and the connection.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any


class NotPublic(OSError):
    """The host resolves to an address that is not on the public internet."""


def public_address(host: str, port: int) -> str:
    """The first address of ``host`` to connect to; ``NotPublic`` if any of them is not
    global (loopback, private, link-local, reserved…), ``OSError`` if it does not resolve."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in answers]
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            raise NotPublic(f"{host} resolves to {address}, which is not a public address")
    if not addresses:
        raise OSError(f"{host} does not resolve")
    return addresses[0]


class PublicHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to the checked public address of its host."""

    def connect(self) -> None:
        """Resolve and check the host, connect to that address, then start TLS for the name."""
        address = public_address(self.host, self.port)
        sock = socket.create_connection((address, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class PublicHTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's HTTPS handler, over :class:`PublicHTTPSConnection`."""

    def https_open(self, req: urllib.request.Request) -> Any:
        """Open ``req`` on a checked public address."""
        return self.do_open(PublicHTTPSConnection, req)


class RefuseHTTP(urllib.request.BaseHandler):
    """Refuse plain-HTTP URLs (production sends webhooks over HTTPS only)."""

    handler_order = 100  # before urllib's own HTTP handler

    def http_open(self, req: urllib.request.Request) -> Any:
        """Refuse."""
        raise NotPublic(f"{req.full_url} is not an https:// address")


def build_opener(*handlers: urllib.request.BaseHandler, public_only: bool) -> Any:
    """A urllib opener with ``handlers``; with ``public_only``, HTTPS to public addresses only
    and no proxy (a proxy would connect on our behalf, unchecked)."""
    if not public_only:
        return urllib.request.build_opener(*handlers)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), PublicHTTPSHandler(), RefuseHTTP(), *handlers
    )
