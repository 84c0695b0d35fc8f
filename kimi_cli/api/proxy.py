"""Proxy variables as httpx can use them.

V2RayN, Clash and others export ``ALL_PROXY=socks://host:port``; httpx only knows
``socks5://`` and refuses the client outright, so every command would fail. The scheme
means SOCKS5 in those tools, so it is rewritten before the first client is built.
"""

from __future__ import annotations

from collections.abc import MutableMapping

PROXY_VARIABLES = (
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
)


def normalize_socks_env(environ: MutableMapping[str, str]) -> list[str]:
    """Rewrite ``socks://`` to ``socks5://`` in place; return the names changed."""
    changed = []
    for name in PROXY_VARIABLES:
        value = environ.get(name, "")
        if value.lower().startswith("socks://"):
            environ[name] = "socks5://" + value[len("socks://") :]
            changed.append(name)
    return changed
