"""Connector discovery through the ``pivot.connectors`` entry-point group."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

from connectors.sdk.base import Connector
from pivot.errors import ConfigurationError

ENTRY_POINT_GROUP = "pivot.connectors"


@lru_cache(maxsize=1)
def available() -> dict[str, type[Connector]]:
    """Every installed connector class by name; refuses duplicates and foreign classes."""
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            raise ConfigurationError(f"connector entry point {ep.name!r} failed to load: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise ConfigurationError(f"entry point {ep.name!r} is not a Connector subclass")
        if cls.name != ep.name:
            raise ConfigurationError(
                f"entry point {ep.name!r} points at connector named {cls.name!r}"
            )
        if ep.name in found and found[ep.name] is not cls:
            raise ConfigurationError(f"two connectors are registered as {ep.name!r}")
        found[ep.name] = cls
    return dict(sorted(found.items()))


def get(name: str) -> type[Connector]:
    """The connector class called ``name``, or a :class:`ConfigurationError` listing the known ones."""
    connectors = available()
    if name not in connectors:
        known = ", ".join(connectors) or "none"
        raise ConfigurationError(f"unknown connector {name!r} (installed: {known})")
    return connectors[name]
