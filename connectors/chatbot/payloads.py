"""The chatbot's own webhook payloads (its format, not the canonical one)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Satellite(BaseModel):
    # A satellite may add fields at any release: ignore them, validate what we use.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Conversation(_Satellite):
    """A conversation thread of the chatbot."""

    id: str = Field(min_length=1, max_length=128)
    channel: Literal["whatsapp", "sms", "web"]


class Message(_Satellite):
    """One message a tenant wrote."""

    id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=5_000)
    sent_at: AwareDatetime


class User(_Satellite):
    """The chatbot's user, with identity hints."""

    id: str = Field(min_length=1, max_length=128)
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None
    erp_tenant_ref: str | None = None


class MessageCreated(_Satellite):
    """``message.created``: a tenant wrote to the chatbot."""

    event: Literal["message.created"]
    event_id: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime
    conversation: Conversation
    message: Message
    user: User
