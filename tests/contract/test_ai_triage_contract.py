"""The AI triage connector gets the inherited contract suite."""

from connectors.ai_triage import AiTriageConnector
from connectors.sdk.testing import ConnectorContract


class TestAiTriageContract(ConnectorContract):
    connector = AiTriageConnector
