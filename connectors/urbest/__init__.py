"""Urbest-like connector package: payloads, mappings, connector and sandbox satellite."""

from connectors.urbest.connector import UrbestConnector, UrbestSettings

__all__ = ["UrbestConnector", "UrbestSettings"]
