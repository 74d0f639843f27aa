"""ERP connector package: payloads, mappings, polling, connector and sandbox satellite."""

from connectors.erp.connector import ErpConnector, ErpSettings

__all__ = ["ErpConnector", "ErpSettings"]
