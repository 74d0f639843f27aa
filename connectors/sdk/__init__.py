"""The connector SDK: the base class, its tables, contexts, settings and registry."""

from connectors.sdk.base import Connector, DeliveryFailure, Inbound, Outbound, Page
from connectors.sdk.context import MappingContext, OutboundContext
from connectors.sdk.settings import ConnectorSettings

__all__ = [
    "Connector",
    "ConnectorSettings",
    "DeliveryFailure",
    "Inbound",
    "MappingContext",
    "Outbound",
    "OutboundContext",
    "Page",
]
