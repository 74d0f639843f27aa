"""ERP polled through the hub into Ublo; a lease notice; a steward's merge. Real broker, store, HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from observability.metrics import PivotMetrics
from pivot import webhooks
from pivot.settings import KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack
from pivot.stewardship import MergeRefused, merge_tenants
from pivot.store import golden, xref

SECRET = "pivot-dev-secret"
LOTS = 60


@pytest.fixture
def stack(own_store_url: str, topic_suffix: str) -> Any:
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=None))
    with running_stack(settings, own_store_url, seed=int(topic_suffix[:6], 16), lots=LOTS,
                       metrics=PivotMetrics(CollectorRegistry()), start_pollers=False) as running:
        yield running


def _state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state", timeout=30).json()


def _wait_for(predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the pipeline"
        time.sleep(0.2)


def _erp(stack: Stack, entity: str) -> list[dict[str, Any]]:
    page = httpx.get(f"{stack.sandboxes['erp']}/api/v1/export/{entity}", params={"limit": 1000})
    return list(page.json()["items"])


def test_the_erp_estate_reaches_ublo_once_and_a_notice_follows(stack: Stack) -> None:
    [poller] = stack.pollers
    read = poller.catch_up()
    assert read == sum(_state(stack, "erp")["counts"].values())
    _wait_for(lambda: _state(stack, "ublo")["counts"]["properties"] >= LOTS)

    ublo = _state(stack, "ublo")
    by_ref = {p["external_ref"]: p for p in ublo["properties"]}
    with stack.hub.store.read_session() as session:
        for lot in _erp(stack, "lots"):
            canonical = xref.lookup(session, "erp", "lot", lot["code_ug"])
            assert canonical is not None and canonical in by_ref
            assert xref.lookup(session, "rpls", "lot", lot["numero_rpls"]) == canonical
            assert by_ref[canonical]["rpls"] == lot["numero_rpls"]
            assert xref.lookup(session, "ublo", "lot", by_ref[canonical]["id"]) == canonical
    assert len(ublo["properties"]) == LOTS and ublo["ledger"]["duplicates_applied"] == 0

    # A new poller (a restarted worker) resumes at the saved cursor: nothing is read twice.
    [again] = stack.hub.pollers()
    assert again.catch_up() == 0

    lease = next(x for x in _erp(stack, "leases") if x["statut"] == "EN_COURS")
    httpx.post(f"{stack.sandboxes['erp']}/sandbox/changes",
               json={"type": "lease.notice_given", "lease_id": lease["code_bail"]}).raise_for_status()
    assert again.catch_up() == 1

    def ids() -> tuple[str | None, str | None]:  # translation runs on the workers
        with stack.hub.store.read_session() as session:
            return (xref.lookup(session, "erp", "lot", lease["code_ug"]),
                    xref.lookup(session, "erp", "lease", lease["code_bail"]))

    _wait_for(lambda: None not in ids())
    lot_id, lease_id = ids()

    def noticed() -> bool:
        props = {p["external_ref"]: p for p in _state(stack, "ublo")["properties"]}
        urbest = _state(stack, "urbest")["interventions"]
        return (props[lot_id]["occupancy"] == "notice"
                and any(i["external_ref"] == lease_id for i in urbest))

    _wait_for(noticed)
    [inspection] = [i for i in _state(stack, "urbest")["interventions"]
                    if i["external_ref"] == lease_id]
    assert inspection["kind"] == "inspection"


def _message(user: str, n: int, hint: str | None) -> bytes:
    return json.dumps({
        "event": "message.created", "event_id": f"evt_{user}_{n}",
        "occurred_at": "2026-11-24T08:30:00Z",
        "conversation": {"id": f"conv_{user}_{n}", "channel": "sms"},
        "message": {"id": f"msg_{user}_{n}", "sent_at": "2026-11-24T08:29:58Z",
                    "text": "Bonjour, la chasse d'eau fuit en continu depuis hier soir."},
        "user": {"id": user, "erp_tenant_ref": hint},
    }).encode()


def _request_of(stack: Stack, message_id: str) -> str | None:
    with stack.hub.store.read_session() as session:  # a fresh snapshot each time
        return xref.lookup(session, "chatbot", "request", message_id)


def _post(stack: Stack, body: bytes) -> None:
    headers = {"Content-Type": "application/json", **webhooks.sign(SECRET, body, int(time.time()))}
    httpx.post(f"{stack.api_url}/v1/ingest/chatbot", content=body, headers=headers).raise_for_status()


def test_a_steward_merges_a_chatbot_tenant_into_the_erp_tenant(stack: Stack) -> None:
    stack.pollers[0].catch_up()
    lease = next(x for x in _erp(stack, "leases") if x["statut"] == "EN_COURS")

    def translated() -> bool:  # the load is published; its translation runs on the workers
        with stack.hub.store.read_session() as session:
            lease_id = xref.lookup(session, "erp", "lease", lease["code_bail"])
            return lease_id is not None and golden.get(session, lease_id) is not None

    _wait_for(translated)
    with stack.hub.store.read_session() as session:
        erp_tenant = xref.lookup(session, "erp", "tenant", lease["titulaires"][0])
        lot_id = xref.lookup(session, "erp", "lot", lease["code_ug"])
    assert erp_tenant is not None

    user = f"CB-USR-{int(time.time() * 1000) % 1_000_000:06d}"
    _post(stack, _message(user, 1, None))  # no hint: a tenant record of their own
    _wait_for(lambda: _request_of(stack, f"msg_{user}_1") is not None)
    with stack.hub.store.read_session() as session:
        own = xref.lookup(session, "chatbot", "tenant", user)
        first = golden.get(session, xref.lookup(session, "chatbot", "request", f"msg_{user}_1"))
    assert own not in (None, erp_tenant) and first is not None and first.data["lot_id"] is None

    merged = merge_tenants(stack.hub, erp_tenant, own, "same name and mobile number")
    assert merged.absorbed_id == own and merged.id == erp_tenant
    with pytest.raises(MergeRefused):
        merge_tenants(stack.hub, own, erp_tenant, "the other way round")

    _post(stack, _message(user, 2, None))  # the same user again, still no hint
    _wait_for(lambda: _request_of(stack, f"msg_{user}_2") is not None)
    with stack.hub.store.read_session() as session:
        assert xref.lookup(session, "chatbot", "tenant", user) == erp_tenant
        assert xref.survivor_of(session, own) == erp_tenant
        second = golden.get(session, xref.lookup(session, "chatbot", "request", f"msg_{user}_2"))
        history = golden.history(session, erp_tenant)
    assert second is not None and second.data["tenant_id"] == erp_tenant
    assert second.data["lot_id"] == lot_id
    assert history[-1].event_type == "fr.pivot.tenant.merged.v1"
