"""AI decisions are recorded once per event with their model version and inputs' hash."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import httpx

from pivot.pipeline.context import DeliveryContext, StoreContext
from pivot.store import Store, decisions, golden
from pivot.store.decisions import Decision


def test_a_delivery_records_its_decisions_once(store: Store) -> None:
    subject = f"request_{uuid.uuid4().hex}"
    event_id = str(uuid.uuid4())
    decision = Decision("triage", "triage-2026.11-abc", hashlib.sha256(b"Odeur de gaz").hexdigest(),
                        subject, {"category": "other", "urgency": "urgent"})
    for _ in range(2):  # the same event delivered twice
        with store.read_session() as session:
            ctx = DeliveryContext(session, "ai_triage", httpx.Client(), event_id,
                                  datetime(2026, 11, 24, tzinfo=UTC))
            ctx.record_decision(decision)
        with store.session() as session:
            ctx.flush(session)
    with store.read_session() as session:
        [row] = decisions.about(session, subject)
    assert (row.model, row.model_version, row.input_sha256) == (
        "triage", "triage-2026.11-abc", decision.input_sha256)
    assert row.output["urgency"] == "urgent" and row.event_id == event_id


def test_find_returns_a_tenants_own_records_only(store: Store) -> None:
    mine, other = f"tenant_{uuid.uuid4().hex}", f"tenant_{uuid.uuid4().hex}"
    with store.session() as session:
        for n, tenant in enumerate((mine, mine, other)):
            rid = f"request_{uuid.uuid4().hex}"
            golden.apply(session, rid, "request", {"id": rid, "tenant_id": tenant, "n": n},
                         golden.Lineage(str(uuid.uuid4()), "fr.pivot.request.received.v1",
                                        "chatbot", "1"))
    with store.read_session() as session:
        found = StoreContext(session, "ai_assistant").find("request", tenant_id=mine)
    assert sorted(r["n"] for r in found) == [0, 1]
    assert all(r["tenant_id"] == mine for r in found)


def test_a_delivery_sees_a_record_committed_while_it_waits_for_it(store: Store) -> None:
    building = f"building_{uuid.uuid4().hex}"
    with store.reader() as session:
        ctx = DeliveryContext(session, "ublo", httpx.Client(), str(uuid.uuid4()),
                              datetime(2026, 11, 24, tzinfo=UTC))
        assert ctx.golden(building) is None  # the lot came before its building
        with store.session() as other:  # the ERP worker writes the building meanwhile
            golden.apply(other, building, "building",
                         {"id": building, "street": "14 rue Paul Bert", "city": "Lyon"},
                         golden.Lineage(str(uuid.uuid4()), "fr.pivot.building.upserted.v1",
                                        "erp", "1"))
        assert (ctx.golden(building) or {}).get("street") == "14 rue Paul Bert"
