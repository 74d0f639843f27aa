"""The certificate reader on the bus gets the inherited contract suite."""

from connectors.ai_insurance import AiInsuranceConnector
from connectors.sdk.testing import ConnectorContract


class TestAiInsuranceContract(ConnectorContract):
    connector = AiInsuranceConnector
