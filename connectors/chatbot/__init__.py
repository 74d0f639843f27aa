"""Chatbot connector package: payloads, mappings, connector and sandbox satellite."""

from connectors.chatbot.connector import ChatbotConnector, ChatbotSettings

__all__ = ["ChatbotConnector", "ChatbotSettings"]
