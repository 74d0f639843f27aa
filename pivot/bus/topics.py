"""Topic names, fixed by DESIGN.md."""

from __future__ import annotations

import re

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _checked(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid {what} name {name!r}: lowercase letters, digits and _ only")
    return name


#: One record written when the hub creates its topics: a broker that lost its data (a restarted
#: memory-only broker) no longer has it, even if clients auto-created empty topics meanwhile.
EPOCH = "pivot.hub.epoch"


def raw(connector: str) -> str:
    """Payloads exactly as received from a satellite, keyed by source id."""
    return f"pivot.raw.{_checked(connector, 'connector')}"


def canonical(entity: str) -> str:
    """Canonical events of one entity kind, keyed by canonical id (per-entity order)."""
    return f"pivot.canonical.{_checked(entity, 'entity')}"


def dlq(connector: str) -> str:
    """Dead letters of one connector, with error headers."""
    return f"pivot.dlq.{_checked(connector, 'connector')}"


def entity_of(topic: str) -> str | None:
    """The entity kind of a canonical topic, else None."""
    prefix = "pivot.canonical."
    return topic[len(prefix):] if topic.startswith(prefix) else None
