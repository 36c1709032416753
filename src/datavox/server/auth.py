"""Who may call the API.

Two modes, chosen by whether a bearer token is configured (`DATAVOX_API_TOKEN`):

- No token: the server is a personal tool and binds only to loopback, so nobody else can reach it.
- A token: every `/api` call and every realtime secret needs `Authorization: Bearer <token>`. The page asks
  for the token once and keeps it in `sessionStorage` (gone when the tab closes); browsers cannot put headers
  on WebSocket handshakes, so the event stream receives it in its first message instead.
"""

from __future__ import annotations

import ipaddress
import secrets as pysecrets
from collections.abc import Callable

from fastapi import HTTPException, Request, status

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


class BindRefused(RuntimeError):
    """Binding to a non-loopback address without an API token."""


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str) -> None:
    """Refuse to expose an unauthenticated server beyond this machine."""
    if not token and not is_loopback(host):
        raise BindRefused(
            f"refusing to listen on {host} without an API token: anyone on the network could use it. "
            "Set DATAVOX_API_TOKEN (the page asks for it once), or bind to 127.0.0.1."
        )


def token_matches(expected: str, presented: str | None) -> bool:
    if not expected:
        return True
    if not presented:
        return False
    return pysecrets.compare_digest(expected.encode(), presented.encode())


def bearer_of(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def bearer_dependency(token: str) -> Callable[[Request], None]:
    """A FastAPI dependency that checks the bearer token (a no-op when none is configured)."""

    def require_token(request: Request) -> None:
        if not token_matches(token, bearer_of(request.headers.get("authorization"))):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail={"code": "unauthorized", "message": "A valid API token is required."},
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_token
