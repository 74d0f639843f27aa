"""The Ublo-like connector gets the inherited contract suite."""

from connectors.sdk.testing import ConnectorContract
from connectors.ublo import UbloConnector


class TestUbloContract(ConnectorContract):
    connector = UbloConnector
