"""A tenant's request followed end to end, then shown as a case (real broker, store and HTTP).

The whole hub runs as ``pivot demo`` runs it (:func:`pivot.stack.running_stack`): the ERP's
estate is loaded, a tenant writes to the chatbot, the AI triages, Urbest gets the work order,
the contractor completes it (rechargeable), the ERP bills it, the chatbot tells the tenant.
``pivot case show`` then follows the request through every one of those systems, and the case
gauges on the API's ``/metrics`` follow it too.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from observability.metrics import PivotMetrics
from pivot.cases.cli import case_app
from pivot.cases.timeline import trace_id
from pivot.settings import CasesSettings, KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack
from pivot.store import golden, xref
from pivot.store.tables import GoldenRecord, Outbox, utcnow


@pytest.fixture
def stack(own_store_url: str, topic_suffix: str) -> Any:
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=None),
                             cases=CasesSettings(refresh_s=0.5, settle_s=0))
    with running_stack(settings, own_store_url, seed=int(topic_suffix[:6], 16), lots=40,
                       metrics=PivotMetrics(CollectorRegistry()), start_pollers=False) as running:
        yield running


def _wait_for(predicate: Any, what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def _state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state", timeout=30).json()


def _open_cases(stack: Stack, urgency: str) -> float | None:
    text = httpx.get(f"{stack.api_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "pivot_cases_open" and sample.labels.get("urgency") == urgency:
                return sample.value
    return None


def _load_the_estate(stack: Stack) -> None:
    stack.pollers[0].catch_up()
    page = httpx.get(f"{stack.sandboxes['erp']}/api/v1/export/leases", params={"limit": 1000}).json()
    last = page["items"][-1]["code_bail"]

    def translated() -> bool:
        with stack.hub.store.read_session() as session:
            lease_id = xref.lookup(session, "erp", "lease", last)
            return bool(lease_id and golden.get(session, lease_id))

    _wait_for(translated, "the ERP's estate")


def _requests(stack: Stack, messages: list[str]) -> dict[str, dict[str, Any]] | None:
    """The request of each chatbot message, once all are recorded."""
    with stack.hub.store.read_session() as session:
        found = {}
        for message in messages:
            request_id = xref.lookup(session, "chatbot", "request", message)
            record = golden.get(session, request_id) if request_id else None
            if record is not None:
                found[message] = dict(record.data)
    return found if len(found) == len(messages) else None


def _a_message_on_a_rented_lot(stack: Stack) -> str:
    """A tenant the ERP knows reports a repair (the chatbot's own population and words)."""
    for _ in range(8):
        sent = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                          json={"count": 3, "concurrency": 1, "kinds": "work_orders"}, timeout=60).json()
        messages = list(sent["message_ids"])
        found = _wait_for(lambda messages=messages: _requests(stack, messages), "the chatbot's requests")
        on_a_lot = [message for message, data in found.items() if data.get("lot_id")]
        if on_a_lot:
            return on_a_lot[0]
    raise AssertionError("no message from a tenant the ERP knows")


def _contractor(stack: Stack, work_order: str, status: str, **extra: Any) -> None:
    httpx.post(f"{stack.sandboxes['urbest']}/api/v1/interventions/{work_order}/status",
               json={"status": status, **extra}, headers={"Idempotency-Key": str(uuid.uuid4())},
               timeout=30).raise_for_status()


def test_a_rebilled_repair_is_one_case_across_every_system(stack: Stack, own_store_url: str) -> None:
    _load_the_estate(stack)
    message = _a_message_on_a_rented_lot(stack)
    conversation = next(r["conversation_id"] for r in _state(stack, "chatbot")["sent"]
                        if r["message_id"] == message)

    def work_order() -> dict[str, Any] | None:
        with stack.hub.store.read_session() as session:
            request_id = xref.lookup(session, "chatbot", "request", message)
        return next((i for i in _state(stack, "urbest")["interventions"]
                     if request_id and i["external_ref"] == request_id), None)

    opened = _wait_for(work_order, "the work order in Urbest")
    urgency = _wait_for(lambda: _case_urgency(stack, message), "the triage")
    # the others the chatbot sent stay open too (no contractor moves them)
    _wait_for(lambda: _open_cases(stack, urgency) == _unfinished(stack, urgency) >= 1,
              "the open cases on /metrics", 30)

    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    _contractor(stack, opened["id"], "scheduled", scheduled_for=tomorrow.isoformat())
    _contractor(stack, opened["id"], "started")
    _contractor(stack, opened["id"], "completed", cost_eur="185.40", rechargeable_to_tenant=True)
    with stack.hub.store.read_session() as session:
        intervention = xref.lookup(session, "urbest", "intervention", opened["id"])
    _wait_for(lambda: any(line["intervention_ref"] == intervention
                          for line in _state(stack, "erp")["billing_lines"]), "the ERP's billing line")
    _wait_for(lambda: sum(1 for r in _state(stack, "chatbot")["replies"]
                          if r["conversation_id"] == conversation and r["kind"] == "status") >= 3,
              "the tenant's notices")
    _wait_for(lambda: _open_cases(stack, urgency) == _unfinished(stack, urgency) - 1,
              "the case closed on /metrics", 30)

    result = CliRunner().invoke(case_app, ["show", message, "--json", "--database-url", own_store_url])
    assert result.exit_code == 0, result.output
    case = json.loads(result.stdout)
    assert case["deadline"]["status"] == "met" and case["deadline"]["urgency"] == urgency
    assert case["deadline"]["closed_by"] == "fr.pivot.intervention.completed.v1"
    steps = [(e["system"], e["step"]) for e in case["timeline"]]

    def at(system: str, words: str) -> int:
        return next(n for n, (s, step) in enumerate(steps) if s == system and step.startswith(words))

    received = at("chatbot", "request received via ")
    triaged = at("ai_triage", "triaged ")
    ordered = at("urbest", "work order opened in urbest")
    completed = at("urbest", "work completed, 185.40 EUR, rechargeable to the tenant")
    billed = at("erp", "billing line written in the ERP: 185.40 EUR")
    told = at("chatbot", "tenant told the work is done and 185.40 EUR recharged")
    assert received < triaged < ordered < completed < min(billed, told), steps
    assert at("chatbot", "acknowledgement sent to the tenant") > received
    assert at("chatbot", "tenant told the appointment") > ordered
    records = {r["entity"]: r for r in case["records"]}
    assert records["intervention"]["ids"] == {"urbest": [opened["id"]]}

    # a trace id is shown for every event whose traceparent the outbox kept (tracing may be off)
    with stack.hub.store.read_session() as session:
        kept = {row.event_id: dict(row.headers).get("traceparent") for row in session.query(Outbox)
                .filter(Outbox.event_id.in_([e["event_id"] for e in case["timeline"]]))}
    for entry in case["timeline"]:
        assert "trace_id" in entry
        assert entry["trace_id"] == trace_id(kept.get(entry["event_id"])), entry

    table = CliRunner().invoke(case_app, ["show", opened["id"], "--database-url", own_store_url],
                               env={"COLUMNS": "220"})
    assert table.exit_code == 0, table.output
    assert "trace id" in table.stdout and "billing line written in the ERP" in table.stdout


def _case_urgency(stack: Stack, message: str) -> str | None:
    with stack.hub.store.read_session() as session:
        request_id = xref.lookup(session, "chatbot", "request", message)
        record = golden.get(session, request_id) if request_id else None
        return record.data.get("urgency") if record else None


def _unfinished(stack: Stack, urgency: str) -> int:
    """Requests of this urgency not answered or closed (their repairs are not done either)."""
    with stack.hub.store.read_session() as session:
        return sum(1 for record in session.query(GoldenRecord).filter(GoldenRecord.entity == "request")
                   if record.data.get("urgency") == urgency
                   and record.data.get("status") not in ("resolved", "closed", "rejected"))
