"""Dependency aliases of the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pivot.hub import Hub


async def _hub(request: Request) -> Hub:
    # async: FastAPI would run a plain function in its thread pool, a hop per request
    return request.app.state.hub  # type: ignore[no-any-return]


HubDep = Annotated[Hub, Depends(_hub)]
