"""Urbest mappings beyond the contract fixtures: the lifecycle merged over the golden record."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from canonical_model.events import InterventionCompleted, InterventionScheduled
from connectors.sdk.testing import CONTRACTS, MemoryContext
from connectors.urbest import UrbestConnector
from connectors.urbest.mapping import pre_exit_deadline

FIXTURES = CONTRACTS / "connectors" / "urbest" / "inbound"
LOT = "lot_4c5d6e7f8091a2b3c4d5e6f708192a3b"
REQ = "request_6d1a0f3e9b2c4d5e8f7a6b5c4d3e2f10"


def _payload(name: str, **intervention: Any) -> dict[str, Any]:
    payload = json.loads(Path(FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["payload"]
    payload["intervention"].update(intervention)
    return payload


def _translate(payload: dict[str, Any], ctx: MemoryContext) -> list[Any]:
    return UrbestConnector().translate(json.dumps(payload).encode(), ctx).events


def _hub_created(ctx: MemoryContext, urb_id: str = "URB-2026-000012") -> str:
    """What the outbound delivery left behind: the xref link and the golden record."""
    intervention_id = ctx.canonical_id("intervention", urb_id)
    ctx.golden_records[intervention_id] = {
        "id": intervention_id, "lot_id": LOT, "building_id": None, "category": "plumbing",
        "priority": "urgent", "status": "created", "contractor_siret": "73282932000074",
        "request_id": REQ, "title": "Plomberie : fuite ou engorgement",
        "description": "Fuite sous l'évier.", "rechargeable_to_tenant": False,
    }
    return intervention_id


def test_lifecycle_of_a_hub_created_intervention_keeps_its_golden_fields() -> None:
    ctx = MemoryContext("urbest")
    intervention_id = _hub_created(ctx)
    payload = _payload("intervention_scheduled", external_ref=None, description="",
                       location={"lot_ref": None, "building_ref": None, "address": None})
    (event,) = _translate(payload, ctx)
    assert isinstance(event, InterventionScheduled)
    assert event.id == intervention_id  # the id the outbound delivery linked
    assert (event.lot_id, event.request_id, event.description) == (LOT, REQ, "Fuite sous l'évier.")
    assert event.scheduled_for is not None


def test_the_tools_payload_wins_over_the_golden_record() -> None:
    ctx = MemoryContext("urbest", xref=[["erp", "lot", "LOT-0012-03-045", "lot_from_erp"],
                                        ["erp", "building", "BAT-0012-03", "building_from_erp"]])
    _hub_created(ctx)
    payload = _payload("intervention_completed", priority="P3", category="electricity")
    (event,) = _translate(payload, ctx)
    assert isinstance(event, InterventionCompleted)
    assert (event.lot_id, event.building_id) == ("lot_from_erp", "building_from_erp")
    assert (event.priority, event.category) == ("normal", "electricity")
    assert str(event.cost) == "186.40" and event.completed_at is not None


def test_a_lot_known_only_to_the_tool_is_looked_up_in_its_own_xref() -> None:
    ctx = MemoryContext("urbest", xref=[["urbest", "lot", "LOT-0003-01-007", "lot_own"]])
    (event,) = _translate(_payload("intervention_created_by_an_agent"), ctx)
    assert event.lot_id == "lot_own"


def test_an_unknown_lot_and_a_category_outside_the_taxonomy_are_not_errors() -> None:
    ctx = MemoryContext("urbest")
    (event,) = _translate(_payload("intervention_created_by_an_agent", category="vitrerie"), ctx)
    assert event.lot_id is None and event.category == "other"


def test_a_long_title_is_shortened_not_refused() -> None:
    (event,) = _translate(_payload("intervention_started", title="Réparation " * 40),
                          MemoryContext("urbest"))
    assert len(event.title) == 200 and event.title.endswith("…")


def test_same_intervention_same_canonical_id_across_events() -> None:
    ctx = MemoryContext("urbest")
    ids = {_translate(_payload(name), ctx)[0].id
           for name in ("intervention_scheduled", "intervention_started", "intervention_completed")}
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("notice", "departure", "deadline"),
    [(date(2026, 9, 30), date(2026, 12, 31), "2026-12-24"),
     (date(2026, 12, 28), date(2026, 12, 31), "2026-12-31"),
     (date(2026, 12, 28), None, None)],
)
def test_pre_exit_visit_deadline(notice: date, departure: date | None, deadline: str | None) -> None:
    found = pre_exit_deadline(notice, departure)
    assert (found.date().isoformat() if found else None) == deadline
