"""The Urbest-like tool's own payloads (its format, not the canonical one)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Satellite(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Contractor(_Satellite):
    """The company doing the job."""

    id: str
    name: str
    siret: str | None = None


class UrbestIntervention(_Satellite):
    """An intervention as the Urbest-like API returns it."""

    id: str = Field(min_length=1, max_length=64)
    external_ref: str
    status: Literal["created", "scheduled", "started", "completed", "cancelled"]
    title: str
    priority: Literal["P1", "P2", "P3"]
    category: str
    contractor: Contractor | None = None
