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


class MessageAttachment(_Satellite):
    """A document sent with a message (a certificate, a photo); fetch it from the chatbot's API."""

    id: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    filename: str | None = Field(default=None, max_length=255)


class Message(_Satellite):
    """One message a tenant wrote, with the documents sent along."""

    id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=5_000)
    sent_at: AwareDatetime
    attachments: list[MessageAttachment] = Field(default_factory=list, max_length=10)


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
