"""The tenant assistant connector gets the inherited contract suite."""

from connectors.ai_assistant import AiAssistantConnector
from connectors.sdk.testing import ConnectorContract


class TestAiAssistantContract(ConnectorContract):
    connector = AiAssistantConnector
