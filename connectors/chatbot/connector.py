"""The chatbot connector: the tenants' conversational channel (WhatsApp, SMS, web chat)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_settings import SettingsConfigDict

from canonical_model.events import (
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    InterventionCompleted,
    InterventionCreated,
    InterventionScheduled,
    RequestAnswered,
    RequestReceived,
)
from connectors.chatbot.mapping import (
    acknowledge_request,
    confirm_certificate,
    identities,
    map_message,
    notify_certificate,
    notify_completed,
    notify_intervention,
    notify_scheduled,
    send_answer,
)
from connectors.chatbot.payloads import MessageCreated
from connectors.sdk import Connector, ConnectorSettings, Inbound, Outbound


class ChatbotSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_CHATBOT_*``."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_CHATBOT_", extra="ignore")


class ChatbotConnector(Connector):
    """Tenant messages in; acknowledgements, status notices and reminders out."""

    name = "chatbot"
    settings_class = ChatbotSettings
    source_key_path = "conversation.id"
    inbound = {
        "message.created": Inbound(MessageCreated, (RequestReceived,), map_message),
    }
    outbound = {
        RequestReceived.event_type: Outbound(RequestReceived, acknowledge_request),
        InterventionCreated.event_type: Outbound(InterventionCreated, notify_intervention),
        InterventionScheduled.event_type: Outbound(InterventionScheduled, notify_scheduled),
        RequestAnswered.event_type: Outbound(RequestAnswered, send_answer),
        InterventionCompleted.event_type: Outbound(InterventionCompleted, notify_completed),
        InsuranceCertificateRejected.event_type: Outbound(InsuranceCertificateRejected,
                                                          notify_certificate),
        InsuranceCertificateValidated.event_type: Outbound(InsuranceCertificateValidated,
                                                           confirm_certificate),
    }

    def identities(self, payload: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """The tenant and request ids the mapping of ``payload`` looks up (a bulk-load hint)."""
        if payload.get(self.event_type_field) != "message.created":
            return []
        return identities(payload)
