"""Which tenant a chatbot user is, and which lot their request is about."""

from __future__ import annotations

from connectors.chatbot.mapping import map_message, tenant_of
from connectors.chatbot.payloads import MessageCreated, User
from connectors.sdk.testing import MemoryContext

ERP_TENANT = "tenant_" + "a" * 32
LOT = "lot_" + "b" * 32
LEASE = "lease_" + "c" * 32


def _context() -> MemoryContext:
    return MemoryContext(
        "chatbot",
        xref=[["erp", "tenant", "LOC-0004567", ERP_TENANT]],
        golden={LEASE: {"id": LEASE, "lot_id": LOT, "holder_ids": [ERP_TENANT],
                        "start_date": "2019-04-01", "end_date": None}},
    )


def test_a_user_giving_their_erp_reference_is_the_erp_tenant() -> None:
    ctx = _context()
    user = User(id="CB-USR-100042", erp_tenant_ref="LOC-0004567")
    assert tenant_of(user, ctx) == ERP_TENANT
    # linked for good: the next message needs no hint
    assert tenant_of(User(id="CB-USR-100042"), ctx) == ERP_TENANT


def test_an_unknown_reference_or_no_hint_gives_a_tenant_of_their_own() -> None:
    ctx = _context()
    stranger = tenant_of(User(id="CB-USR-100043", erp_tenant_ref="LOC-9999999"), ctx)
    anonymous = tenant_of(User(id="CB-USR-100044"), ctx)
    assert ERP_TENANT not in {stranger, anonymous} and stranger != anonymous


def test_the_request_is_on_the_lot_the_tenant_rents_that_day() -> None:
    payload = MessageCreated.model_validate({
        "event": "message.created", "event_id": "evt_1", "occurred_at": "2026-11-24T08:30:00Z",
        "conversation": {"id": "conv_1", "channel": "sms"},
        "message": {"id": "msg_1", "text": "Fuite sous l'évier", "sent_at": "2026-11-24T08:29:58Z"},
        "user": {"id": "CB-USR-100042", "erp_tenant_ref": "LOC-0004567"},
    })
    [request] = map_message(payload, _context())
    assert request.tenant_id == ERP_TENANT and request.lot_id == LOT
