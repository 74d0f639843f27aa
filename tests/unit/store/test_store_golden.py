"""Golden records: versions in order, lineage of each, and an event applied only once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pivot.store import Store, golden, xref

if TYPE_CHECKING:  # the fixture's type; conftest is not importable from a test module
    from tests.unit.store.conftest import SourceIds


def _lot(ids: SourceIds, status: str, surface: str) -> dict[str, Any]:
    return {
        "rpls_id": ids.rpls_lot,
        "typology": "T3",
        "habitable_surface_m2": surface,
        "financing": "PLUS",
        "dpe_class": "D",
        "occupancy_status": status,
        "address": "12 rue de la Poudrette, 69100 Villeurbanne",
    }


def test_apply_versions_in_order_with_lineage(store: Store, ids: SourceIds) -> None:
    steps = [
        ("fr.pivot.lot.created.v1", "erp", "1.0.0", _lot(ids, "occupied", "64.50")),
        ("fr.pivot.lot.updated.v1", "ublo", "1.2.0", _lot(ids, "notice", "64.50")),
        ("fr.pivot.lot.updated.v1", "erp", "1.0.1", _lot(ids, "vacant", "65.10")),
    ]
    with store.session() as session:
        canonical_id = xref.resolve(session, "erp", "lot", ids.rpls_lot)
    versions = []
    for number, (event_type, system, mapping, data) in enumerate(steps, start=1):
        with store.session() as session:  # one transaction per event, like a translate worker
            versions.append(golden.apply(
                session, canonical_id, "lot", data,
                golden.Lineage(f"evt-lot-{ids.n}-{number}", event_type, system, mapping, ids.rpls_lot),
            ))
    assert versions == [1, 2, 3]

    with store.session() as session:
        record = golden.get(session, canonical_id)
        assert record is not None
        assert (record.entity, record.version, record.last_event_id) == ("lot", 3, f"evt-lot-{ids.n}-3")
        assert record.data == steps[-1][3]
        history = golden.history(session, canonical_id)
    assert [v.version for v in history] == [1, 2, 3]
    assert [v.event_id for v in history] == [f"evt-lot-{ids.n}-{i}" for i in (1, 2, 3)]
    assert [(v.event_type, v.source_system, v.mapping_version) for v in history] == [
        (t, s, m) for t, s, m, _ in steps
    ]
    assert [v.data["occupancy_status"] for v in history] == ["occupied", "notice", "vacant"]
    assert all(v.source_id == ids.rpls_lot and v.canonical_id == canonical_id for v in history)
    assert [v.recorded_at for v in history] == sorted(v.recorded_at for v in history)


def test_the_same_event_applied_again_adds_no_version(store: Store, ids: SourceIds) -> None:
    with store.session() as session:
        canonical_id = xref.resolve(session, "urbest", "intervention", ids.urbest_intervention)
    first = golden.Lineage(f"evt-urb-{ids.n}-1", "fr.pivot.intervention.created.v1", "urbest", "2.0.0",
                           ids.urbest_intervention)
    second = golden.Lineage(f"evt-urb-{ids.n}-2", "fr.pivot.intervention.completed.v1", "urbest",
                            "2.0.0", ids.urbest_intervention)
    created = {"category": "plomberie", "status": "scheduled", "contractor_siret": "73282932000074"}
    completed = {**created, "status": "completed", "cost_eur": "184.60"}
    with store.session() as session:
        assert golden.apply(session, canonical_id, "intervention", created, first) == 1
        assert golden.apply(session, canonical_id, "intervention", created, first) is None  # same txn
    with store.session() as session:
        assert golden.apply(session, canonical_id, "intervention", completed, second) == 2
    with store.session() as session:  # redelivered after commit, even with other data
        assert golden.apply(session, canonical_id, "intervention", {"status": "cancelled"}, first) is None
        assert golden.apply(session, canonical_id, "intervention", completed, second) is None

    with store.session() as session:
        record = golden.get(session, canonical_id)
        assert record is not None
        assert record.version == 2 and record.data == completed and record.last_event_id == second.event_id
        assert [v.event_id for v in golden.history(session, canonical_id)] == [
            first.event_id, second.event_id
        ]


def test_unicode_and_nested_values_survive_the_round_trip(store: Store, ids: SourceIds) -> None:
    data = {
        "last_name": "Lefèvre-Ñúñez",
        "first_name": "Zoé",
        "contact": {"email": "zoe.lefevre@example.fr", "phone": "+33612345678"},
        "erp_tenant_ref": ids.erp_tenant,
        "holders": ["Mme Zoé Lefèvre", "M. Loïc Œuvray"],
        "rent_eur": "512.37",
    }
    with store.session() as session:
        canonical_id = xref.resolve(session, "erp", "tenant", ids.erp_tenant)
        golden.apply(session, canonical_id, "tenant", data,
                     golden.Lineage(f"evt-tie-{ids.n}", "fr.pivot.tenant.created.v1", "erp", "1.0.0"))
    with store.session() as session:
        record = golden.get(session, canonical_id)
        assert record is not None and record.data == data
        (version,) = golden.history(session, canonical_id)
        assert version.data == data and version.source_id is None


def test_unknown_golden_record(store: Store) -> None:
    with store.session() as session:
        assert golden.get(session, "lease_" + "f" * 32) is None
        assert golden.history(session, "lease_" + "f" * 32) == []
