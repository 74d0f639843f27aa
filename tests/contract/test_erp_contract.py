"""The ERP connector gets the inherited contract suite over contracts/connectors/erp/."""

from connectors.erp import ErpConnector
from connectors.sdk.testing import ConnectorContract


class TestErpContract(ConnectorContract):
    connector = ErpConnector
