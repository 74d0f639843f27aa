"""ERP mappings beyond the contract fixtures: identity matching and refused deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from canonical_model.events import InsuranceCertificateValidated, InterventionCompleted, parse_event
from connectors.erp import ErpConnector, ErpSettings
from connectors.sdk.base import DeliveryFailure
from connectors.sdk.testing import CONTRACTS, MemoryContext
from pivot.errors import MappingError

BASE_URL = "http://erp.test"
FIXTURES = CONTRACTS / "connectors" / "erp"


def _fixture(path: str) -> dict[str, Any]:
    return json.loads(Path(FIXTURES / path).read_text(encoding="utf-8"))


def _translate(payload: dict[str, Any], ctx: MemoryContext) -> list[Any]:
    return ErpConnector().translate(json.dumps(payload).encode(), ctx).events


def test_a_lot_lands_on_the_golden_record_another_system_brought_with_its_rpls() -> None:
    payload = _fixture("inbound/export_lot.json")["payload"]
    ctx = MemoryContext("erp", xref=[["rpls", "lot", "69266000214", "lot_from_ublo"]])
    (event,) = _translate(payload, ctx)
    assert event.id == "lot_from_ublo"
    assert ctx.lookup("lot", "LOT-0012-02-014") == "lot_from_ublo"


def test_a_building_lands_on_the_golden_record_of_its_rnb_id() -> None:
    payload = _fixture("inbound/export_building.json")["payload"]
    payload["data"]["id_rnb"] = "43up-n9s2-ntjy"  # as shown on the RNB site
    ctx = MemoryContext("erp", xref=[["rnb", "building", "43UPN9S2NTJY", "building_from_ublo"]])
    (event,) = _translate(payload, ctx)
    assert event.id == "building_from_ublo" and event.rnb_id == "43UPN9S2NTJY"


def test_an_invalid_rpls_is_kept_but_never_matched_on() -> None:
    payload = _fixture("inbound/export_lot_invalid_identifiers.json")["payload"]
    ctx = MemoryContext("erp", xref=[["rpls", "lot", "692662X", "lot_of_someone_else"]])
    (event,) = _translate(payload, ctx)
    assert event.id != "lot_of_someone_else" and event.rpls_id == "692662X"


def test_a_reference_and_the_record_share_one_canonical_id_whichever_comes_first() -> None:
    ctx = MemoryContext("erp")
    (lease,) = _translate(_fixture("inbound/export_lease_active.json")["payload"], ctx)
    (lot,) = _translate(_fixture("inbound/export_lot.json")["payload"], ctx)
    assert lease.lot_id == lot.id


def _deliver(case: dict[str, Any], event: dict[str, Any], statuses: list[int]) -> list[httpx.Request]:
    connector = ErpConnector(ErpSettings(base_url=BASE_URL, max_attempts=3, initial_wait_s=0, max_wait_s=0))
    answers = iter(statuses)
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.route().mock(side_effect=lambda _request: httpx.Response(next(answers), json={}))
        context = case.get("context", {})
        ctx = MemoryContext("erp", context.get("xref"), context.get("golden"), connector.client,
                            event_id="3f0e9a1c-7b2d-4e6f-8a5c-1d2e3f4a5b6c")
        try:
            connector.deliver(parse_event(case["event_type"], json.dumps(event).encode()), ctx)
        finally:
            connector.close()
        return [call.request for call in router.calls]


def test_a_rechargeable_intervention_on_a_lot_without_lease_that_day_is_refused() -> None:
    case = _fixture("outbound/intervention_completed_billed.json")
    event = {**case["event"], "completed_at": "2019-02-20T09:00:00Z"}  # between the two leases
    with pytest.raises(DeliveryFailure) as failure:
        _deliver(case, event, [201])
    assert isinstance(failure.value.cause, MappingError)
    assert "no lease held lot" in str(failure.value.cause)


def test_a_rechargeable_intervention_on_a_lease_unknown_to_the_erp_is_refused() -> None:
    case = _fixture("outbound/intervention_completed_billed.json")
    case["context"]["xref"] = [row for row in case["context"]["xref"] if row[1] != "lease"]
    with pytest.raises(DeliveryFailure) as failure:
        _deliver(case, case["event"], [201])
    assert "unknown to the ERP" in str(failure.value.cause)


def test_a_rechargeable_intervention_without_lot_is_refused() -> None:
    case = _fixture("outbound/intervention_completed_billed.json")
    event = {**case["event"], "lot_id": None, "building_id": "building_5d6e7f8091a2b3c4d5e6f708192a3b4c"}
    with pytest.raises(DeliveryFailure) as failure:
        _deliver(case, event, [201])
    assert isinstance(failure.value.cause, MappingError)


@pytest.mark.parametrize("lease_id", [None, "lease_ffffffffffffffffffffffffffffffff"])
def test_a_certificate_without_a_lease_known_to_the_erp_is_refused(lease_id: str | None) -> None:
    case = _fixture("outbound/insurance_certificate_validated.json")
    with pytest.raises(DeliveryFailure) as failure:
        _deliver(case, {**case["event"], "lease_id": lease_id}, [200])
    assert isinstance(failure.value.cause, MappingError)


def test_a_retried_insurance_write_sends_the_same_body() -> None:
    """The ERP refuses a key replayed with another body: checked_at must not move on retry."""
    case = _fixture("outbound/insurance_certificate_validated.json")
    requests = _deliver(case, case["event"], [503, 504, 200])
    bodies = {r.content for r in requests}
    assert len(requests) == 3 and len(bodies) == 1
    assert json.loads(bodies.pop())["checked_at"].endswith("+00:00")


def test_the_outbound_table_names_the_events_it_consumes() -> None:
    assert ErpConnector.outbound_entities() == ["insurance_certificate", "intervention"]
    assert InterventionCompleted.event_type in ErpConnector.outbound
    assert InsuranceCertificateValidated.event_type in ErpConnector.outbound
