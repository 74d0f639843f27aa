"""Sandbox of the tenant chatbot: a stateful FastAPI app playing the real conversational tool.

Tenants write to the landlord by WhatsApp, SMS or web chat; the chatbot pushes each message to
the hub as a signed webhook in its OWN format, and the hub answers tenants through the
chatbot's reply API. The sandbox has a seeded tenant population and a bank of realistic French
messages with their expected triage (see :mod:`connectors.chatbot.fixtures_data`).

Endpoints (faults apply to ``/api/*`` only):

* ``POST /api/v1/conversations/{conversation_id}/replies`` — the hub's outbound call
  (``Idempotency-Key`` required): 201 on first application, 200 with the same body on replay;
* ``POST /api/v1/users/{user_id}/notifications`` — a message the hub sends a tenant out of any
  conversation (a reminder: insurance certificate missing or expired); ``Idempotency-Key``
  required, 201 then 200 on replay (404 ``unknown_user``);
* ``GET /api/v1/conversations/{conversation_id}`` — a conversation with messages and replies;
* ``GET /api/v1/users/{user_id}`` — a chatbot user (tenant) profile;
* ``GET /api/v1/attachments/{attachment_id}`` — a document a tenant sent, as its bytes with its
  content type (404 ``unknown_attachment``);
* ``POST /sandbox/simulate`` — generate tenant messages and push them to
  ``POST {hub_url}/v1/ingest/chatbot`` with retries, like the real tool;
* ``POST /sandbox/documents/send`` — a tenant sends a document (an insurance certificate) with a
  message: stored, then pushed as a ``message.created`` webhook carrying the attachment;
* ``GET /sandbox/state``, ``GET|PUT /sandbox/faults``, ``GET /healthz``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import random
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx
from faker import Faker
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from connectors.chatbot.fixtures_data import (
    CHANNELS,
    CITIES,
    EMAIL_DOMAINS,
    MESSAGE_BANK,
    BankMessage,
)
from connectors.sdk.sandbox import (
    FaultSettings,
    IdempotencyKeyHeader,
    SandboxHTTPError,
    SandboxState,
    add_sandbox_routes,
    push_webhook,
    utc_now_iso,
    write_response,
)

#: Path of the hub's ingestion endpoint for this satellite.
INGEST_PATH = "/v1/ingest/chatbot"
#: Event type of a tenant message in the chatbot's own webhook format.
MESSAGE_CREATED = "message.created"
#: Statuses the chatbot retries (besides connection errors and timeouts).
MALFORMED_KINDS = ("missing_message", "text_not_string", "missing_user_id")
#: Largest document a tenant may send (bytes, once decoded).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

Channel = Literal["whatsapp", "sms", "web"]


class TenantAddress(BaseModel):
    """A tenant's home address as the chatbot knows it (declared by the tenant)."""

    model_config = ConfigDict(frozen=True)

    line1: str
    line2: str | None = None
    postal_code: str
    city: str


class ChatbotTenant(BaseModel):
    """A chatbot user: a tenant, under the chatbot's own id scheme ``CB-USR-000123``.

    Attributes:
        user_id: The chatbot's id of the user.
        civility: ``"M."`` or ``"Mme"``.
        first_name: Given name.
        last_name: Family name.
        phone: French mobile number, E.164 (``+336…``/``+337…``).
        email: E-mail address.
        address: Declared home address.
        erp_tenant_ref: The ERP tenant reference the tenant gave (identity hint), if any.

    """

    model_config = ConfigDict(frozen=True)

    user_id: str
    civility: Literal["M.", "Mme"]
    first_name: str
    last_name: str
    phone: str
    email: str
    address: TenantAddress
    erp_tenant_ref: str | None = None

    @property
    def display_name(self) -> str:
        """The name the messaging app shows."""
        return f"{self.first_name} {self.last_name}"


class SimulateRequest(BaseModel):
    """Body of ``POST /sandbox/simulate``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=10_000)
    concurrency: int = Field(default=4, ge=1, le=64)
    #: ``any`` message of the bank, or only ``work_orders``: reports that call for a
    #: contractor (not questions, not rent or paperwork).
    kinds: Literal["any", "work_orders"] = "any"


#: Bank messages that call for a contractor.
WORK_ORDER_BANK = tuple(m for m in MESSAGE_BANK if m.intent == "report"
                        and m.category not in ("rent_charges", "administrative"))


class SimulateResult(BaseModel):
    """Answer of ``POST /sandbox/simulate``.

    Attributes:
        sent: Messages generated and pushed.
        accepted: Answered 2xx by the hub (after retries).
        failed: Not accepted (4xx, or retries exhausted).
        malformed: Sent as a malformed payload on purpose (accepted or not).
        message_ids: Chatbot message ids, in generation order.

    """

    sent: int
    accepted: int
    failed: int
    malformed: int
    message_ids: list[str]


class DocumentSendRequest(BaseModel):
    """Body of ``POST /sandbox/documents/send``: a tenant sends a document with a message."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=5_000)
    filename: str = Field(min_length=1, max_length=255)
    #: A MIME type, parameters allowed (``text/plain; charset=utf-8``).
    content_type: str = Field(min_length=3, max_length=100,
                              pattern=r"^[\w.+-]+/[\w.+-]+(; ?[\w.+-]+=[\w.+\"-]+)*$")
    content_b64: str = Field(min_length=1, max_length=(MAX_DOCUMENT_BYTES * 4) // 3 + 4)
    channel: Channel = "whatsapp"


class DocumentSendResult(BaseModel):
    """Answer of ``POST /sandbox/documents/send``.

    Attributes:
        message_id: The chatbot's id of the message carrying the document.
        conversation_id: The conversation it opened.
        attachment_id: The document's id (``GET /api/v1/attachments/{attachment_id}``).
        accepted: Whether the hub accepted the webhook (after retries).

    """

    message_id: str
    conversation_id: str
    attachment_id: str
    accepted: bool


class ReplyIn(BaseModel):
    """Body of ``POST /api/v1/conversations/{conversation_id}/replies``."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096)
    kind: Literal["acknowledgement", "status", "answer"]
    reference: str | None = Field(default=None, max_length=128)


class NotificationIn(BaseModel):
    """Body of ``POST /api/v1/users/{user_id}/notifications``."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096)
    kind: Literal["reminder", "information"]
    reference: str | None = Field(default=None, max_length=128)


def _ascii_slug(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


def generate_tenants(seed: int, count: int = 200, hint_share: float = 0.65) -> list[ChatbotTenant]:
    """Generate the chatbot's tenant population, the same for the same seed.

    Args:
        seed: Seed of the generation.
        count: Number of tenants.
        hint_share: Share of tenants who gave their ERP tenant reference. The reference of the
            i-th tenant (1-based) is ``LOC-<i on 7 digits>``.

    Returns:
        The tenants, ordered by user id.

    """
    rng = random.Random(f"chatbot-tenants:{seed}")
    fake = Faker("fr_FR")
    fake.seed_instance(rng.randrange(2**32))
    numbers = sorted(rng.sample(range(100, 1_000_000), count))
    phones: set[str] = set()
    emails: set[str] = set()
    tenants: list[ChatbotTenant] = []
    for index, number in enumerate(numbers, start=1):
        female = rng.random() < 0.55
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name()
        phone = ""
        while not phone or phone in phones:
            phone = f"+33{rng.choice('67')}{rng.randrange(10**8):08d}"
        phones.add(phone)
        f_slug, l_slug = _ascii_slug(first), _ascii_slug(last)
        local = rng.choice(
            (
                f"{f_slug}.{l_slug}",
                f"{f_slug[0]}.{l_slug}",
                f"{f_slug}{l_slug}{rng.randint(60, 99)}",
                f"{l_slug}.{f_slug}",
                f"{f_slug}-{l_slug}{rng.randint(1, 999)}",
            )
        )
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in emails:
            email = f"{local}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
        emails.add(email)
        city, postcodes = rng.choice(CITIES)
        address = TenantAddress(
            line1=f"{rng.randint(1, 180)} {fake.street_name()}",
            line2=f"Bât. {rng.choice('ABCDEFG')}, appt {rng.randint(1, 12)}{rng.randint(1, 9):02d}",
            postal_code=rng.choice(postcodes),
            city=city,
        )
        tenants.append(
            ChatbotTenant(
                user_id=f"CB-USR-{number:06d}",
                civility="Mme" if female else "M.",
                first_name=first,
                last_name=last,
                phone=phone,
                email=email,
                address=address,
                erp_tenant_ref=f"LOC-{index:07d}" if rng.random() < hint_share else None,
            )
        )
    return tenants


@dataclass(frozen=True)
class _Outgoing:
    """A generated message waiting to be pushed to the hub."""

    index: int
    tenant: ChatbotTenant
    bank: BankMessage
    channel: Channel
    event_id: str
    conversation_id: str
    message_id: str
    sent_at_iso: str
    malformed_kind: str | None


class ChatbotState(SandboxState):
    """State of the chatbot sandbox: tenants, conversations, pushed messages, received replies.

    Args:
        seed: Seed of tenants, messages, ids and faults.
        hub_url: Base URL of the hub; may be set later (``state.hub_url = ...``).
        webhook_secret: HMAC key shared with the hub.
        faults: Initial fault settings.
        honour_idempotency_keys: Whether replies honour ``Idempotency-Key``.
        tenants: A tenant population to use instead of the generated one (to align the chatbot
            users with another sandbox's tenants).
        http_timeout_s: Timeout of each webhook delivery.
        max_retries: Retries of a webhook after the first attempt.
        retry_backoff_s: First backoff delay, doubled at each retry (jittered, capped at 2 s).

    """

    def __init__(
        self,
        *,
        seed: int = 42,
        hub_url: str | None = None,
        webhook_secret: str = "pivot-dev-secret",
        faults: FaultSettings | None = None,
        honour_idempotency_keys: bool = True,
        tenants: list[ChatbotTenant] | None = None,
        http_timeout_s: float = 10.0,
        max_retries: int = 5,
        retry_backoff_s: float = 0.2,
    ) -> None:
        super().__init__(
            seed=seed, faults=faults, honour_idempotency_keys=honour_idempotency_keys
        )
        self.hub_url = hub_url
        self.webhook_secret = webhook_secret
        self.http_timeout_s = http_timeout_s
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.tenants = list(tenants) if tenants is not None else generate_tenants(seed)
        self.tenants_by_id = {t.user_id: t for t in self.tenants}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        #: Documents tenants sent, by attachment id: metadata and ``content`` (bytes).
        self.documents: dict[str, dict[str, Any]] = {}
        self._rng = random.Random(f"chatbot-messages:{seed}")
        # documents draw their ids apart, so sending one leaves the seeded messages unchanged
        self._doc_rng = random.Random(f"chatbot-documents:{seed}")
        self._jitter = random.Random()
        self._reply_seq = 0

    # -- outgoing messages -------------------------------------------------------------------

    def _hex_id(self, prefix: str) -> str:
        return f"{prefix}_{self._rng.getrandbits(64):016x}"

    def generate(self, count: int, kinds: str = "any") -> list[_Outgoing]:
        """Draw ``count`` tenant messages and open their conversations (deterministic per seed).

        Args:
            count: Number of messages.
            kinds: ``any`` message of the bank, or ``work_orders`` only (see
                :data:`WORK_ORDER_BANK`).

        Returns:
            The messages to push, in order; their records are already in :attr:`sent`.

        """
        channels = [c for c, _ in CHANNELS]
        weights = [w for _, w in CHANNELS]
        out: list[_Outgoing] = []
        with self.lock:
            for _ in range(count):
                tenant = self._rng.choice(self.tenants)
                bank = self._rng.choice(WORK_ORDER_BANK if kinds == "work_orders" else MESSAGE_BANK)
                channel: Channel = self._rng.choices(channels, weights)[0]  # type: ignore[assignment]
                event_id = self._hex_id("evt")
                conversation_id = self._hex_id("conv")
                message_id = self._hex_id("msg")
                malformed = (
                    self._rng.choice(MALFORMED_KINDS) if self.injector.should_malform() else None
                )
                now = utc_now_iso()
                item = _Outgoing(
                    index=len(self.sent),
                    tenant=tenant,
                    bank=bank,
                    channel=channel,
                    event_id=event_id,
                    conversation_id=conversation_id,
                    message_id=message_id,
                    sent_at_iso=now,
                    malformed_kind=malformed,
                )
                self.conversations[conversation_id] = {
                    "id": conversation_id,
                    "channel": channel,
                    "user_id": tenant.user_id,
                    "opened_at": now,
                    "messages": [
                        {"id": message_id, "direction": "inbound", "text": bank.text,
                         "sent_at": now}
                    ],
                    "replies": [],
                }
                self.sent.append(
                    {
                        "event_id": event_id,
                        "message_id": message_id,
                        "conversation_id": conversation_id,
                        "user_id": tenant.user_id,
                        "channel": channel,
                        "text": bank.text,
                        "expected_category": bank.category,
                        "expected_urgency": bank.urgency,
                        "malformed": malformed is not None,
                        "malformed_kind": malformed,
                        "sent_at": None,
                        "status_code": None,
                        "attempts": 0,
                        "accepted": False,
                        "ingestion_id": None,
                        "error": None,
                    }
                )
                out.append(item)
        return out

    @staticmethod
    def message_payload(
        tenant: ChatbotTenant, channel: Channel, event_id: str, conversation_id: str,
        message_id: str, text: str, sent_at_iso: str,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Return the chatbot's ``message.created`` webhook body (attachments when given)."""
        message: dict[str, Any] = {"id": message_id, "text": text, "sent_at": sent_at_iso}
        if attachments:
            message["attachments"] = attachments
        return {
            "event": MESSAGE_CREATED,
            "event_id": event_id,
            "occurred_at": sent_at_iso,
            "conversation": {"id": conversation_id, "channel": channel},
            "message": message,
            "user": {
                "id": tenant.user_id,
                "display_name": tenant.display_name,
                "phone": tenant.phone,
                "email": tenant.email,
                "erp_tenant_ref": tenant.erp_tenant_ref,
            },
        }

    @classmethod
    def webhook_payload(cls, item: _Outgoing) -> dict[str, Any]:
        """Return the chatbot's webhook body for a generated message (malformed if drawn so)."""
        payload = cls.message_payload(item.tenant, item.channel, item.event_id,
                                      item.conversation_id, item.message_id, item.bank.text,
                                      item.sent_at_iso)
        if item.malformed_kind == "missing_message":
            del payload["message"]
        elif item.malformed_kind == "text_not_string":
            payload["message"]["text"] = {"body": item.bank.text, "lang": "fr"}
        elif item.malformed_kind == "missing_user_id":
            del payload["user"]["id"]
        return payload

    def _deliver(self, client: httpx.Client, item: _Outgoing) -> None:
        self._push(client, item.index, self.webhook_payload(item))

    def _push(self, client: httpx.Client, index: int, payload: dict[str, Any]) -> None:
        """Push one webhook (retried like the real tool) and record how the hub answered."""
        assert self.hub_url is not None
        body = json.dumps(payload, ensure_ascii=False).encode()
        delivery = push_webhook(
            client, self.hub_url.rstrip("/") + INGEST_PATH, body, self.webhook_secret,
            user_agent="chatbot-sandbox/1.0", max_retries=self.max_retries,
            backoff_s=self.retry_backoff_s, jitter=self._jitter,
        )
        with self.lock:
            self.sent[index].update(delivery.as_record())

    def simulate(self, count: int, concurrency: int = 4, kinds: str = "any") -> SimulateResult:
        """Generate ``count`` messages and push them to the hub, ``concurrency`` at a time.

        Each webhook is retried on connection errors, timeouts, 429 and 5xx with the same
        ``event_id`` and body, up to :attr:`max_retries` times.

        Args:
            count: Number of messages.
            concurrency: Webhooks in flight at once.
            kinds: ``any`` or ``work_orders`` (see :meth:`generate`).

        Returns:
            What was sent and how the hub answered.

        Raises:
            SandboxHTTPError: 409 when no hub URL is configured.

        """
        if not self.hub_url:
            raise SandboxHTTPError(
                409, "no_hub_url", "no hub_url is configured: the chatbot has nowhere to push"
            )
        items = self.generate(count, kinds)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        with (
            httpx.Client(timeout=self.http_timeout_s, limits=limits) as client,
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="chatbot-push") as pool,
        ):
            list(pool.map(lambda item: self._deliver(client, item), items))
        with self.lock:
            records = [self.sent[item.index] for item in items]
            accepted = sum(1 for r in records if r["accepted"])
            return SimulateResult(
                sent=len(records),
                accepted=accepted,
                failed=len(records) - accepted,
                malformed=sum(1 for r in records if r["malformed"]),
                message_ids=[r["message_id"] for r in records],
            )

    def send_document(self, request: DocumentSendRequest) -> DocumentSendResult:
        """A tenant sends a document with a message: store it, then push the message to the hub.

        The webhook is pushed like :meth:`simulate`'s (signed, retried on 429/5xx and network
        errors) and carries the attachment (id, content type, file name); the hub fetches the
        bytes from ``GET /api/v1/attachments/{attachment_id}``.

        Raises:
            SandboxHTTPError: 409 when no hub URL is configured, 404 ``unknown_user``, 422
                ``invalid_document`` (not base64, or empty), 413 ``document_too_large``.

        """
        if not self.hub_url:
            raise SandboxHTTPError(
                409, "no_hub_url", "no hub_url is configured: the chatbot has nowhere to push"
            )
        tenant = self.tenants_by_id.get(request.user_id)
        if tenant is None:
            raise SandboxHTTPError(404, "unknown_user", f"no user {request.user_id!r}")
        try:
            content = base64.b64decode(request.content_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SandboxHTTPError(422, "invalid_document", "content_b64 is not base64") from exc
        if not content:
            raise SandboxHTTPError(422, "invalid_document", "the document is empty")
        if len(content) > MAX_DOCUMENT_BYTES:
            raise SandboxHTTPError(413, "document_too_large",
                                   f"documents are limited to {MAX_DOCUMENT_BYTES} bytes")
        with self.lock:
            ids = [f"{prefix}_{self._doc_rng.getrandbits(64):016x}"
                   for prefix in ("evt", "conv", "msg", "att")]
            event_id, conversation_id, message_id, attachment_id = ids
            now = utc_now_iso()
            attachment = {"id": attachment_id, "content_type": request.content_type,
                          "filename": request.filename}
            self.documents[attachment_id] = {
                **attachment, "content": content, "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(), "user_id": tenant.user_id,
                "conversation_id": conversation_id, "message_id": message_id, "sent_at": now,
            }
            self.conversations[conversation_id] = {
                "id": conversation_id,
                "channel": request.channel,
                "user_id": tenant.user_id,
                "opened_at": now,
                "messages": [{"id": message_id, "direction": "inbound", "text": request.text,
                              "sent_at": now, "attachments": [dict(attachment)]}],
                "replies": [],
            }
            index = len(self.sent)
            self.sent.append({
                "event_id": event_id, "message_id": message_id,
                "conversation_id": conversation_id, "user_id": tenant.user_id,
                "channel": request.channel, "text": request.text, "expected_category": None,
                "expected_urgency": None, "malformed": False, "malformed_kind": None,
                "attachment_ids": [attachment_id], "sent_at": None, "status_code": None,
                "attempts": 0, "accepted": False, "ingestion_id": None, "error": None,
            })
        payload = self.message_payload(tenant, request.channel, event_id, conversation_id,
                                       message_id, request.text, now, [attachment])
        with httpx.Client(timeout=self.http_timeout_s) as client:
            self._push(client, index, payload)
        with self.lock:
            accepted = bool(self.sent[index]["accepted"])
        return DocumentSendResult(message_id=message_id, conversation_id=conversation_id,
                                  attachment_id=attachment_id, accepted=accepted)

    # -- the hub's calls ---------------------------------------------------------------------

    def add_reply(self, key: str, conversation_id: str, reply: ReplyIn) -> dict[str, Any]:
        """Post a reply in a conversation (one application of the write).

        Raises:
            SandboxHTTPError: 404 when the conversation is unknown.

        """
        with self.lock:
            conversation = self.conversations.get(conversation_id)
            if conversation is None:
                raise SandboxHTTPError(
                    404, "unknown_conversation", f"no conversation {conversation_id!r}"
                )
            self._reply_seq += 1
            now = time.time()
            answer = {
                "id": f"rep_{self._reply_seq:06d}",
                "conversation_id": conversation_id,
                "text": reply.text,
                "kind": reply.kind,
                "reference": reply.reference,
                "created_at": utc_now_iso(now),
            }
            conversation["replies"].append(dict(answer))
            self.replies.append(
                {
                    "key": key,
                    "reply_id": answer["id"],
                    "conversation_id": conversation_id,
                    "text": reply.text,
                    "kind": reply.kind,
                    "reference": reply.reference,
                    "received_at": answer["created_at"],
                    "received_ts": now,
                }
            )
            return answer

    def add_notification(self, key: str, user_id: str, note: NotificationIn) -> dict[str, Any]:
        """Send a tenant a message out of any conversation (one application of the write).

        Raises:
            SandboxHTTPError: 404 when the user is unknown.

        """
        with self.lock:
            if user_id not in self.tenants_by_id:
                raise SandboxHTTPError(404, "unknown_user", f"no user {user_id!r}")
            self._reply_seq += 1
            now = time.time()
            answer = {"id": f"ntf_{self._reply_seq:06d}", "user_id": user_id, "text": note.text,
                      "kind": note.kind, "reference": note.reference,
                      "created_at": utc_now_iso(now)}
            self.notifications.append({**answer, "key": key, "received_ts": now})
            return answer

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        """Return a copy of a conversation with its messages and replies.

        Raises:
            SandboxHTTPError: 404 when the conversation is unknown.

        """
        with self.lock:
            conversation = self.conversations.get(conversation_id)
            if conversation is None:
                raise SandboxHTTPError(
                    404, "unknown_conversation", f"no conversation {conversation_id!r}"
                )
            return copy.deepcopy(conversation)

    def document(self, attachment_id: str) -> tuple[bytes, str, str]:
        """Return a sent document's bytes, content type and file name.

        Raises:
            SandboxHTTPError: 404 ``unknown_attachment``.

        """
        with self.lock:
            document = self.documents.get(attachment_id)
            if document is None:
                raise SandboxHTTPError(404, "unknown_attachment", f"no attachment {attachment_id!r}")
            return document["content"], document["content_type"], document["filename"]

    def snapshot(self) -> dict[str, Any]:
        """Return ``GET /sandbox/state``: sent records, replies, documents, ledger and faults."""
        with self.lock:
            return {
                "sent": copy.deepcopy(self.sent),
                "replies": copy.deepcopy(self.replies),
                "notifications": copy.deepcopy(self.notifications),
                "documents": [{k: v for k, v in d.items() if k != "content"}
                              for d in self.documents.values()],
                "tenants": len(self.tenants),
                **super().snapshot(),
            }


def create_app(
    *,
    seed: int = 42,
    hub_url: str | None = None,
    webhook_secret: str = "pivot-dev-secret",
    faults: FaultSettings | None = None,
    honour_idempotency_keys: bool = True,
    tenants: list[ChatbotTenant] | None = None,
    retry_backoff_s: float = 0.2,
) -> FastAPI:
    """Build the chatbot sandbox app; its state is ``app.state.sandbox`` (:class:`ChatbotState`).

    Args:
        seed: Seed of tenants, messages, ids and faults: same seed, same messages.
        hub_url: Base URL of the hub webhooks are pushed to (``/v1/ingest/chatbot``).
        webhook_secret: HMAC-SHA256 key shared with the hub.
        faults: Initial fault settings.
        honour_idempotency_keys: False replays every reply delivery (no idempotency).
        tenants: Tenant population to use instead of the generated one.
        retry_backoff_s: First backoff of webhook retries (tests pass a tiny one).

    """
    state = ChatbotState(
        seed=seed,
        hub_url=hub_url,
        webhook_secret=webhook_secret,
        faults=faults,
        honour_idempotency_keys=honour_idempotency_keys,
        tenants=tenants,
        retry_backoff_s=retry_backoff_s,
    )
    app = FastAPI(
        title="Chatbot sandbox",
        version="1.0",
        description="A stateful stand-in for the tenant chatbot (WhatsApp, SMS, web chat).",
    )
    add_sandbox_routes(app, state)

    @app.post("/api/v1/conversations/{conversation_id}/replies", status_code=201, tags=["api"])
    def post_reply(
        conversation_id: str, reply: ReplyIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda key: state.add_reply(key, conversation_id, reply),
            method="POST",
            path=f"/api/v1/conversations/{conversation_id}/replies",
            body=reply.model_dump(mode="json"),
        )
        return write_response(answer, applied, 201)

    @app.post("/api/v1/users/{user_id}/notifications", status_code=201, tags=["api"])
    def post_notification(
        user_id: str, note: NotificationIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda key: state.add_notification(key, user_id, note),
            method="POST",
            path=f"/api/v1/users/{user_id}/notifications",
            body=note.model_dump(mode="json"),
        )
        return write_response(answer, applied, 201)

    @app.get("/api/v1/conversations/{conversation_id}", tags=["api"])
    def get_conversation(conversation_id: str) -> dict[str, Any]:
        state.injector.maybe_fail(read=True)
        return state.conversation(conversation_id)

    @app.get("/api/v1/users/{user_id}", tags=["api"])
    def get_user(user_id: str) -> dict[str, Any]:
        state.injector.maybe_fail(read=True)
        tenant = state.tenants_by_id.get(user_id)
        if tenant is None:
            raise SandboxHTTPError(404, "unknown_user", f"no user {user_id!r}")
        return {**tenant.model_dump(mode="json"), "display_name": tenant.display_name}

    @app.get("/api/v1/attachments/{attachment_id}", tags=["api"])
    def get_attachment(attachment_id: str) -> Response:
        state.injector.maybe_fail(read=True)
        content, content_type, filename = state.document(attachment_id)
        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        return Response(content, media_type=content_type,
                        headers={"Content-Disposition": disposition})

    @app.post("/sandbox/simulate", tags=["sandbox"])
    def simulate(request: SimulateRequest) -> SimulateResult:
        return state.simulate(request.count, request.concurrency, request.kinds)

    @app.post("/sandbox/documents/send", tags=["sandbox"])
    def send_document(request: DocumentSendRequest) -> DocumentSendResult:
        return state.send_document(request)

    return app
