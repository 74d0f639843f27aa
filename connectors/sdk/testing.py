"""The inherited contract suite of connectors, and an in-memory mapping context.

A connector's whole contract test is one class::

    class TestChatbotContract(ConnectorContract):
        connector = ChatbotConnector

It replays the fixtures under ``contracts/connectors/<name>/``:

* ``inbound/*.json`` — ``{"description", "payload", "expect": {"events": [{"type", "data"}]}}``
  (``data`` is a subset of the canonical event) or ``"expect": {"error": "MappingError"}``;
* ``outbound/*.json`` — ``{"description", "event_type", "event", "context": {"xref": [[system,
  entity, source_id, canonical_id]], "golden": {id: data}}, "response": {"status", "json"},
  "expect": {"requests": [{"method", "path", "json"}], "emits": [types]}}``
  (``json`` is a subset of the request body; a response with ``"text"`` instead of ``"json"``
  answers that raw body, with ``"content_type"``, ``text/plain`` by default: a document).

and checks the events against the committed JSON Schemas, determinism (same input, same
canonical and event ids), declared errors on negative cases, idempotency keys on every write,
and retry behaviour (5xx then success is retried, 4xx is not) with respx.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import jsonschema
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonical_model.events import CanonicalEvent, parse_event
from connectors.sdk.base import Connector, DeliveryFailure
from pivot import errors
from pivot.bus.envelope import event_id
from pivot.http import IDEMPOTENCY_HEADER
from pivot.store.decisions import Decision

_json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                 | st.text(max_size=30))


def _json_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                            max_size=5)


def _mutations(payload: Any) -> st.SearchStrategy[Any]:
    """A fixture payload with one field removed, retyped or replaced by an injection string."""
    if not isinstance(payload, dict) or not payload:
        return st.just(payload)
    paths: list[tuple[str, ...]] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            paths.append((*prefix, key))
            if isinstance(value, dict):
                walk(value, (*prefix, key))

    walk(payload, ())
    nasty = st.sampled_from(["'; DROP TABLE xref; --", "<script>alert(1)</script>", "\x00",
                             "{{7*7}}", "../../etc/passwd", "é" * 6000, ""])
    replacement = st.one_of(_json_scalars, nasty, st.lists(st.integers(), max_size=2))

    def mutate(path: tuple[str, ...], new: Any, drop: bool) -> Any:
        copy = json.loads(json.dumps(payload))
        node = copy
        for key in path[:-1]:
            node = node[key]
        if drop:
            del node[path[-1]]
        else:
            node[path[-1]] = new
        return copy

    return st.builds(mutate, st.sampled_from(paths), replacement, st.booleans())


CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
_NAMESPACE = uuid.UUID("0d7b2c4e-8f1a-4b6e-9c3d-2a5f6e7d8c9b")


class MemoryContext:
    """A deterministic, in-memory :class:`~connectors.sdk.context.OutboundContext` for tests."""

    def __init__(
        self,
        system: str,
        xref: list[list[str]] | None = None,
        golden: dict[str, dict[str, Any]] | None = None,
        client: httpx.Client | None = None,
        event_id: str = "00000000-0000-0000-0000-000000000000",
        event_time: datetime = datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    ) -> None:
        self._system = system
        self.links: dict[tuple[str, str, str], str] = {
            (s, e, src): cid for s, e, src, cid in (xref or [])
        }
        self.golden_records = dict(golden or {})
        self._client = client
        self._event_id = event_id
        self._event_time = event_time
        self.decisions: list[Decision] = []

    @property
    def system(self) -> str:
        """The connector's system."""
        return self._system

    @property
    def client(self) -> httpx.Client:
        """The client under test."""
        assert self._client is not None, "this context has no HTTP client"
        return self._client

    @property
    def event_id(self) -> str:
        """The delivered event's id."""
        return self._event_id

    @property
    def event_time(self) -> datetime:
        """The delivered event's time."""
        return self._event_time

    def idempotency_key(self, step: str = "") -> str:
        """The event id, suffixed with ``step``."""
        return f"{self._event_id}:{step}" if step else self._event_id

    def lookup(self, entity: str, source_id: str, system: str | None = None) -> str | None:
        """Canonical id, or None."""
        return self.links.get((system or self._system, entity, source_id))

    def link(self, entity: str, source_id: str, canonical_id: str) -> str:
        """Link (the existing link wins)."""
        return self.links.setdefault((self._system, entity, source_id), canonical_id)

    def canonical_id(
        self, entity: str, source_id: str, *, national_ids: Mapping[str, str | None] | None = None
    ) -> str:
        """Deterministic id: the same source id always gives the same canonical id.

        National ids match first, as in the hub (:func:`pivot.store.xref.match`).
        """
        nationals = [(kind, value) for kind, value in (national_ids or {}).items() if value]
        found = next((cid for kind, value in nationals
                      if (cid := self.lookup(entity, value, system=kind))), None)
        minted = uuid.uuid5(_NAMESPACE, f"{self._system}|{entity}|{source_id}").hex
        result = found or self.lookup(entity, source_id) or f"{entity}_{minted}"
        self.link(entity, source_id, result)
        for kind, value in nationals:
            self.links.setdefault((kind, entity, value), result)
        return result

    def source_id(self, entity: str, canonical_id: str, system: str | None = None) -> str | None:
        """Newest source id of a canonical id in ``system``."""
        found = [src for (s, e, src), cid in self.links.items()
                 if s == (system or self._system) and e == entity and cid == canonical_id]
        return found[-1] if found else None

    def golden(self, canonical_id: str) -> dict[str, Any] | None:
        """Golden record data given by the fixture."""
        return self.golden_records.get(canonical_id)

    def lease_of_lot(self, lot_id: str, on: date) -> str | None:
        """The fixture's lease golden record of ``lot_id`` whose period covers ``on``."""
        for cid, data in self.golden_records.items():
            if not cid.startswith("lease_") or data.get("lot_id") != lot_id:
                continue
            start, end = data.get("start_date"), data.get("end_date")
            if start and date.fromisoformat(start) <= on and (
                    not end or on <= date.fromisoformat(end)):
                return cid
        return None


    def find(self, entity: str, limit: int = 50, **equals: str) -> list[dict[str, Any]]:
        """Fixture golden records of ``entity`` (id prefix) whose fields equal ``equals``."""
        found = [dict(data) for cid, data in self.golden_records.items()
                 if cid.startswith(f"{entity}_")
                 and all(str(data.get(k)) == v for k, v in equals.items())]
        return found[:limit]

    def record_decision(self, decision: Decision) -> None:
        """Keep the decision for the test to inspect."""
        self.decisions.append(decision)

    def lot_of_tenant(self, tenant_id: str, on: date) -> str | None:
        """The lot of a fixture lease golden record held by ``tenant_id`` on ``on``."""
        for cid, data in self.golden_records.items():
            if (cid.startswith("lease_") and tenant_id in data.get("holder_ids", [])
                    and self.lease_of_lot(data["lot_id"], on) == cid):
                return str(data["lot_id"])
        return None


def load_fixtures(connector: str, direction: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, fixture) pairs of ``contracts/connectors/<connector>/<direction>/*.json``."""
    folder = CONTRACTS / "connectors" / connector / direction
    return [(path.stem, json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(folder.glob("*.json"))]


def _schema(event_type: str) -> dict[str, Any]:
    path = CONTRACTS / "schemas" / "events" / f"{event_type}.json"
    assert path.exists(), f"no committed schema for {event_type}: run `pivot contracts export`"
    return json.loads(path.read_text(encoding="utf-8"))


def _is_subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _is_subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            _is_subset(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


class ConnectorContract:
    """Inherit and set :attr:`connector` to get the whole contract suite."""

    connector: ClassVar[type[Connector] | None] = None
    base_url: ClassVar[str] = "http://satellite.test"

    @classmethod
    def pytest_generate_tests(cls, metafunc: pytest.Metafunc) -> None:
        """Parametrize the ``*_case`` arguments from the connector's fixtures."""
        if cls.connector is None:
            return
        inbound = load_fixtures(cls.connector.name, "inbound")
        outbound = load_fixtures(cls.connector.name, "outbound")
        selections = {
            "inbound_case": inbound,
            "inbound_ok_case": [(n, c) for n, c in inbound if "error" not in c["expect"]],
            "outbound_case": outbound,
            "outbound_call_case": [(n, c) for n, c in outbound if c["expect"].get("requests")],
        }
        for argument, cases in selections.items():
            if argument in metafunc.fixturenames:
                if argument == "outbound_call_case" and outbound and not cases:
                    # Outbound fixtures exist but none expects an HTTP call (a connector that
                    # calls no satellite): the retry checks have nothing to exercise.
                    metafunc.parametrize(argument, [pytest.param(None, marks=pytest.mark.skip(
                        reason="no outbound fixture expects an HTTP call"))], ids=["no_http_call"])
                    continue
                # No fixture at all is a case too: the test then checks the table is empty.
                values = [c for _, c in cases] or [None]
                metafunc.parametrize(argument, values, ids=[n for n, _ in cases] or ["none"])

    def make(self) -> Connector:
        """A connector instance pointed at the respx-mocked satellite, retries without waits."""
        assert self.connector is not None
        settings = self.connector.settings_class(
            base_url=self.base_url, max_attempts=3, initial_wait_s=0, max_wait_s=0
        )
        return self.connector(settings)

    # ------------------------------------------------------------ coverage

    def test_every_inbound_event_type_has_a_fixture(self) -> None:
        assert self.connector is not None
        covered = set()
        for _, case in load_fixtures(self.connector.name, "inbound"):
            payload = case["payload"]
            if isinstance(payload, dict) and isinstance(payload.get(self.connector.event_type_field), str):
                covered.add(payload[self.connector.event_type_field])
        assert set(self.connector.inbound) <= covered, set(self.connector.inbound) - covered

    def test_every_outbound_event_type_has_a_fixture(self) -> None:
        assert self.connector is not None
        covered = {case["event_type"] for _, case in load_fixtures(self.connector.name, "outbound")}
        assert set(self.connector.outbound) <= covered, set(self.connector.outbound) - covered

    def test_declared_events_have_committed_schemas(self) -> None:
        assert self.connector is not None
        declared = [e for row in self.connector.inbound.values() for e in row.emits]
        declared += [row.event for row in self.connector.outbound.values()]
        declared += [e for row in self.connector.outbound.values() for e in row.emits]
        for event in declared:
            assert _schema(event.event_type)["$id"]

    # ------------------------------------------------------------- inbound

    def _translate(self, case: dict[str, Any]) -> tuple[list[CanonicalEvent], str | None]:
        connector = self.make()
        raw = json.dumps(case["payload"]).encode()
        result = connector.translate(raw, MemoryContext(connector.name))
        return result.events, result.source_event_id

    def test_inbound_mapping(self, inbound_case: dict[str, Any] | None) -> None:
        if inbound_case is None:
            assert self.connector is not None and not self.connector.inbound
            return
        expect = inbound_case["expect"]
        if "error" in expect:
            error = getattr(errors, expect["error"])
            with pytest.raises(error):
                self._translate(inbound_case)
            return
        events, _ = self._translate(inbound_case)
        assert [e.event_type for e in events] == [e["type"] for e in expect["events"]]
        for event, expected in zip(events, expect["events"], strict=True):
            data = json.loads(event.model_dump_json())
            assert _is_subset(expected.get("data", {}), data), (expected.get("data"), data)
            jsonschema.validate(data, _schema(event.event_type))
            assert parse_event(event.event_type, event.model_dump_json().encode()) == event

    def test_inbound_is_deterministic(self, inbound_ok_case: dict[str, Any] | None) -> None:
        if inbound_ok_case is None:
            assert self.connector is not None and not self.connector.inbound
            return
        first, origin = self._translate(inbound_ok_case)
        second, _ = self._translate(inbound_ok_case)
        assert first == second
        assert self.connector is not None
        ids = [event_id(self.connector.name, origin or "-", e.event_type, e.subject) for e in first]
        assert ids == [event_id(self.connector.name, origin or "-", e.event_type, e.subject)
                       for e in second]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(data=st.data())
    def test_inbound_never_crashes(self, data: st.DataObject) -> None:
        """Any payload ends as canonical events or as a rejection with its reason (DLQ)."""
        assert self.connector is not None
        samples = [c["payload"] for _, c in load_fixtures(self.connector.name, "inbound")]
        raw = data.draw(st.one_of(
            st.binary(max_size=200),
            st.recursive(_json_scalars, _json_containers, max_leaves=20).map(
                lambda v: json.dumps(v).encode()),
            *([st.sampled_from(samples).flatmap(_mutations).map(lambda v: json.dumps(v).encode())]
              if samples else []),
        ))
        connector = self.make()
        try:
            result = connector.translate(raw, MemoryContext(connector.name))
        except errors.RejectedError as exc:
            assert str(exc), "a rejection must say why"
            return
        declared = tuple(e for row in connector.inbound.values() for e in row.emits)
        assert all(isinstance(e, declared) for e in result.events)

    # ------------------------------------------------------------ outbound

    def _deliver(
        self, case: dict[str, Any], failures_first: list[int] | None = None
    ) -> tuple[list[CanonicalEvent], list[httpx.Request]]:
        """Deliver the case's event to a respx satellite answering ``failures_first`` then it."""
        connector = self.make()
        event = parse_event(case["event_type"], json.dumps(case["event"]).encode())
        response = case.get("response", {"status": 200, "json": {}})
        statuses = iter([*(failures_first or []), *[response["status"]] * 10])

        def answer(_request: httpx.Request) -> httpx.Response:
            status = next(statuses)
            if "text" in response and status < 500:
                return httpx.Response(status, text=response["text"], headers={
                    "Content-Type": response.get("content_type", "text/plain; charset=utf-8")})
            return httpx.Response(status, json=response.get("json", {}) if status < 500 else {})

        with respx.mock(base_url=self.base_url, assert_all_called=False) as router:
            router.route().mock(side_effect=answer)
            context = case.get("context", {})
            ctx = MemoryContext(connector.name, context.get("xref"), context.get("golden"),
                                connector.client, event_id="6c1f7a52-2d0e-4b43-8e2f-1a8f3f0c9b10")
            try:
                produced = connector.deliver(event, ctx)
            finally:
                connector.close()
                requests = [call.request for call in router.calls]
        return produced, requests

    def test_outbound_delivery(self, outbound_case: dict[str, Any] | None) -> None:
        if outbound_case is None:
            assert self.connector is not None and not self.connector.outbound
            return
        produced, requests = self._deliver(outbound_case)
        expect = outbound_case["expect"]
        assert len(requests) == len(expect.get("requests", [])), [r.url for r in requests]
        for request, wanted in zip(requests, expect.get("requests", []), strict=True):
            assert request.method == wanted["method"]
            assert request.url.path == wanted["path"]
            if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
                assert request.headers.get(IDEMPOTENCY_HEADER), "a write without idempotency key"
            if "json" in wanted:
                body = json.loads(request.content)
                assert _is_subset(wanted["json"], body), (wanted["json"], body)
        assert [e.event_type for e in produced] == expect.get("emits", [])
        for event in produced:
            jsonschema.validate(json.loads(event.model_dump_json()), _schema(event.event_type))

    def test_outbound_retries_5xx_then_succeeds(
        self, outbound_call_case: dict[str, Any] | None
    ) -> None:
        if outbound_call_case is None:
            assert self.connector is not None and not self.connector.outbound
            return
        case = outbound_call_case
        produced, requests = self._deliver(case, [503])
        assert len(requests) == len(case["expect"]["requests"]) + 1
        keys = {r.headers.get(IDEMPOTENCY_HEADER) for r in requests}
        assert len(keys) == len(case["expect"]["requests"]), "a retry changed its key"
        assert [e.event_type for e in produced] == case["expect"].get("emits", [])

    def test_outbound_does_not_retry_4xx(self, outbound_call_case: dict[str, Any] | None) -> None:
        if outbound_call_case is None:
            assert self.connector is not None and not self.connector.outbound
            return
        case = {**outbound_call_case, "response": {"status": 422, "json": {"error": "invalid"}}}
        with pytest.raises(DeliveryFailure) as failure:
            self._deliver(case)
        assert isinstance(failure.value.cause, errors.DeliveryRejected)
        assert failure.value.attempts == 1
