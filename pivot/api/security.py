"""Scoped API keys of the operations endpoints (header ``X-API-Key``)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Security
from fastapi.security import APIKeyHeader

from pivot.api.deps import HubDep

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Operations API key")


def require(scope: str) -> Callable[..., None]:
    """A dependency refusing requests whose key lacks ``scope`` (401 without key, 403 without scope)."""

    async def check(hub: HubDep, key: str | None = Security(_api_key)) -> None:
        if not key:
            raise HTTPException(401, detail="missing X-API-Key header")
        if scope not in hub.settings.api.scopes_of(key):
            raise HTTPException(403, detail=f"this API key does not grant {scope}")

    return check


def scope(name: str) -> object:
    """``Depends`` on :func:`require` for route decorators."""
    return Depends(require(name))
