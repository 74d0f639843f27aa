"""Ublo-like connector package: payloads, mappings, connector and sandbox satellite."""

from connectors.ublo.connector import UbloConnector, UbloSettings

__all__ = ["UbloConnector", "UbloSettings"]
