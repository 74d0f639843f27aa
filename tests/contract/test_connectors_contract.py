"""Every installed connector gets the inherited contract suite."""

from connectors.chatbot import ChatbotConnector
from connectors.sdk.testing import ConnectorContract
from connectors.urbest import UrbestConnector


class TestChatbotContract(ConnectorContract):
    connector = ChatbotConnector


class TestUrbestContract(ConnectorContract):
    connector = UrbestConnector
