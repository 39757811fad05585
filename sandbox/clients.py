"""Helpers to point HTTP clients that hard-code ``https://<domain>`` at a sandbox.

``auth0-python``'s Management client always builds ``https://{domain}/api/v2``; give it an
``httpx.Client(transport=RewriteTransport({...}))`` and its requests land on the loopback
server instead.  The ``Host`` header keeps the canonical domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname or "", port


class RewriteTransport(httpx.BaseTransport):
    """Send requests for ``https://domain`` to ``http://127.0.0.1:port`` (per mapping)."""

    def __init__(self, mapping: Mapping[str, str], transport: httpx.BaseTransport | None = None) -> None:
        self._map = {}
        for source, target in mapping.items():
            src = source if "://" in source else f"https://{source}"
            self._map[_origin(src)] = _origin(target)
        self._transport = transport or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80))
        target = self._map.get(key)
        if target is not None:
            scheme, host, port = target
            request.url = request.url.copy_with(scheme=scheme, host=host, port=port)
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()


def rewriting_client(mapping: Mapping[str, str], **kwargs: object) -> httpx.Client:
    """An ``httpx.Client`` whose requests for the mapped domains go to the sandboxes."""
    return httpx.Client(transport=RewriteTransport(mapping), **kwargs)  # type: ignore[arg-type]
