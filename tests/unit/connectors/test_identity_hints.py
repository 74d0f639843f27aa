"""Identity hints: after prefetching them, mapping a payload queries no xref row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.chatbot import ChatbotConnector
from connectors.erp import ErpConnector
from connectors.sdk import Connector
from pivot.pipeline.context import StoreContext
from pivot.store import Store, xref

CONTRACTS = Path(__file__).parents[3] / "contracts/connectors"
#: Connectors whose mapping is hinted, and their inbound fixtures that map to events.
MAPPED = [(connector, fixture)
          for connector in (ErpConnector, ChatbotConnector)
          for fixture in sorted((CONTRACTS / connector.name / "inbound").glob("*.json"))
          if "events" in json.loads(fixture.read_text())["expect"]]


@pytest.mark.parametrize(("connector_class", "fixture"), MAPPED,
                         ids=[f"{c.name}-{f.stem}" for c, f in MAPPED])
def test_hints_answer_every_look_up_of_the_mapping(
    connector_class: type[Connector], fixture: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hints.db'}")
    store.migrate()
    connector = connector_class()
    payload = json.loads(fixture.read_text())["payload"]
    queried: list[tuple[str, str, str]] = []
    real = xref.lookup

    def counting(session, system, entity, source_id):  # type: ignore[no-untyped-def]
        queried.append((system, entity, source_id))
        return real(session, system, entity, source_id)

    monkeypatch.setattr(xref, "lookup", counting)
    with store.session() as session:
        ctx = StoreContext(session, connector.name, defer_writes=True)
        hints = list(connector.identities(payload))
        ctx.prefetch(hints)
        events = connector.translate_payload(payload, ctx).events
    store.dispose()
    assert events and hints
    assert queried == []
