"""Checks of a demo run: every satellite's state against what the day's events imply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from pivot.store import Store
from pivot.store.tables import GoldenRecord, GoldenRecordVersion

#: ERP occupancy statuses as the Ublo-like tool names them.
OCCUPANCY = {"OCCUPE": "occupied", "PREAVIS": "notice", "VACANT": "vacant"}


@dataclass
class Check:
    """One consistency check of the final state."""

    name: str
    ok: bool
    detail: str


def golden_counts(store: Store) -> dict[str, int]:
    """Golden records per entity."""
    with store.read_session() as session:
        rows = session.execute(select(GoldenRecord.entity, func.count())
                               .group_by(GoldenRecord.entity)).all()
    return {entity: int(n) for entity, n in rows}


def versions_from(store: Store, system: str, entity: str) -> int:
    """Golden-record versions of ``entity`` written from ``system``'s events."""
    with store.read_session() as session:
        return int(session.scalar(
            select(func.count()).select_from(GoldenRecordVersion)
            .join(GoldenRecord, GoldenRecord.canonical_id == GoldenRecordVersion.canonical_id)
            .where(GoldenRecordVersion.source_system == system, GoldenRecord.entity == entity)
        ) or 0)


def no_duplicates(states: dict[str, dict[str, Any]]) -> Check:
    """No satellite applied a write twice."""
    doubled = {name: s["ledger"]["duplicates_applied"] for name, s in states.items()
               if s.get("ledger", {}).get("duplicates_applied")}
    erp = states.get("erp", {})
    ublo = states.get("ublo", {})
    billed_twice = erp.get("billing_duplicate_intervention_refs", [])
    requests_twice = ublo.get("requests_duplicate_external_refs", [])
    ok = not doubled and not billed_twice and not requests_twice
    return Check("no write applied twice in any satellite", ok,
                 f"duplicate applications {doubled or 0}; interventions billed twice "
                 f"{len(billed_twice)}; requests created twice in Ublo {len(requests_twice)}")


def estate_in_ublo(erp: dict[str, Any], ublo: dict[str, Any]) -> Check:
    """Every ERP lot is a property in the Ublo-like tool, with the ERP's occupancy."""
    lots = erp["counts"]["lots"]
    expected = {OCCUPANCY[k]: n for k, n in erp["lots_by_occupancy"].items()}
    actual = {k: n for k, n in ublo["properties_by_occupancy"].items() if n}
    ok = ublo["counts"]["properties"] == lots and actual == expected
    return Check("every ERP lot is a property in Ublo with its occupancy", ok,
                 f"{ublo['counts']['properties']} properties for {lots} lots; occupancy "
                 f"{actual} (ERP {expected})")
