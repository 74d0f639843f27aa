"""The ERP's identity hints: after prefetching them, mapping a payload queries no xref row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.erp import ErpConnector
from pivot.pipeline.context import StoreContext
from pivot.store import Store, xref

FIXTURES = sorted((Path(__file__).parents[3] / "contracts/connectors/erp/inbound").glob("*.json"))
MAPPED = [f for f in FIXTURES if "events" in json.loads(f.read_text())["expect"]]


@pytest.mark.parametrize("fixture", MAPPED, ids=lambda f: f.stem)
def test_hints_answer_every_look_up_of_the_mapping(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hints.db'}")
    store.migrate()
    erp = ErpConnector()
    payload = json.loads(fixture.read_text())["payload"]
    queried: list[tuple[str, str, str]] = []
    real = xref.lookup

    def counting(session, system, entity, source_id):  # type: ignore[no-untyped-def]
        queried.append((system, entity, source_id))
        return real(session, system, entity, source_id)

    monkeypatch.setattr(xref, "lookup", counting)
    with store.session() as session:
        ctx = StoreContext(session, "erp", defer_writes=True)
        hints = list(erp.identities(payload))
        ctx.prefetch(hints)
        events = erp.translate_payload(payload, ctx).events
    store.dispose()
    assert events and hints
    assert queried == []
