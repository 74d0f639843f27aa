"""Base classes of the canonical model (the *modèle pivot*).

Every canonical model is frozen (a value, never mutated in place), forbids unknown fields (a
mapping that produces a field the model does not know is a bug to surface, not data to drop) and
strips surrounding whitespace from strings. Times are timezone-aware and normalised to UTC; calendar
dates are plain :class:`datetime.date`.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, ClassVar
from uuid import UUID, uuid4, uuid5

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

_KIND_PATTERN = re.compile(r"^[a-z][a-z_]*$")
#: Namespace of canonical ids minted for a source record (:func:`new_canonical_id`).
_MINT_NAMESPACE = UUID("5c1e8f0a-3b7d-4e2a-9f61-8d4c2b7a9e13")


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A timezone-aware datetime, converted to UTC. Naive datetimes are refused."""


class CanonicalModel(BaseModel):
    """Root of every canonical model: frozen, closed to unknown fields, whitespace-stripped.

    Field documentation is written as attribute docstrings; it flows into the JSON Schemas
    published under ``contracts/schemas/``.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        use_attribute_docstrings=True,
    )


class CanonicalEntity(CanonicalModel):
    """A canonical entity: something with a hub-minted canonical id.

    Subclasses set the class variable ``kind`` (``"tenant"``, ``"lot"``, ...). The kind is the
    ``<entity>`` part of event types (``fr.pivot.<entity>.<verb>.v<major>``), of canonical topics
    (``pivot.canonical.<entity>``) and the prefix of canonical ids.
    """

    kind: ClassVar[str]

    id: str = Field(min_length=1, max_length=128)
    """Hub-minted canonical id, `<kind>_<32 hex digits>`, e.g. `request_3f2a9c...`."""


def kind_of(canonical_id: str) -> str | None:
    """The entity kind of a hub-minted canonical id (``"lease"`` of ``"lease_9b1d…"``), else None."""
    kind, _, digits = canonical_id.rpartition("_")
    return kind if len(digits) == 32 and _KIND_PATTERN.fullmatch(kind) else None


def new_canonical_id(kind: str, origin: str | None = None) -> str:
    """Mint a new canonical id for an entity kind.

    Args:
        kind: The entity kind, e.g. ``"lease"``.
        origin: The source record it is minted for (``"urbest|intervention|URB-2026-000012"``):
            the same origin always mints the same id, so two stages minting for one source id
            at the same time (an outbound call's answer and the satellite's first webhook)
            agree. Random when None.

    Returns:
        ``"<kind>_<32 hex digits>"``, e.g. ``"lease_9b1d4f0e6c2a4b7d8e3f5a6b7c8d9e0f"``.

    Raises:
        ValueError: If ``kind`` is not lower-case letters and underscores.

    """
    if not _KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"entity kind must be lower-case letters and underscores, got {kind!r}")
    if origin is not None:
        return f"{kind}_{uuid5(_MINT_NAMESPACE, f'{kind}|{origin}').hex}"
    return f"{kind}_{uuid4().hex}"
