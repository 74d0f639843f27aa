"""Cross-reference of identifiers: (system, entity, source id) ↔ canonical id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canonical_model.base import new_canonical_id
from pivot.errors import StoreConflict
from pivot.store.bulk import insert_ignore, query
from pivot.store.tables import Xref, XrefMerge, utcnow

#: One link: (system, entity, source id, canonical id).
Link = tuple[str, str, str, str]


#: Built once: the hot path of every mapping (building the statement costs more than running it).
_LOOKUP = select(Xref.canonical_id).where(
    Xref.system == bindparam("system"), Xref.entity == bindparam("entity"),
    Xref.source_id == bindparam("source_id"),
)


def lookup(session: Session, system: str, entity: str, source_id: str) -> str | None:
    """Canonical id of a source id, or None when unknown."""
    return query(session, _LOOKUP,
                 {"system": system, "entity": entity, "source_id": source_id}).scalar()


_LOOKUP_MANY = select(Xref.source_id, Xref.canonical_id).where(
    Xref.system == bindparam("system"), Xref.entity == bindparam("entity"),
    Xref.source_id.in_(bindparam("source_ids", expanding=True)),
)


def lookup_many(session: Session, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """Canonical ids of the known (system, entity, source id) among ``keys``: one query a kind."""
    by_kind: dict[tuple[str, str], set[str]] = {}
    for system, entity, source_id in keys:
        by_kind.setdefault((system, entity), set()).add(source_id)
    found: dict[tuple[str, str, str], str] = {}
    for (system, entity), source_ids in by_kind.items():
        wanted = sorted(source_ids)
        for start in range(0, len(wanted), 1000):
            for source_id, cid in query(session, _LOOKUP_MANY, {
                    "system": system, "entity": entity, "source_ids": wanted[start:start + 1000]}):
                found[(system, entity, source_id)] = cid
    return found


def link(session: Session, system: str, entity: str, source_id: str, canonical_id: str) -> str:
    """Link a source id to ``canonical_id``; return the canonical id it is linked to.

    When the source id is already linked, the existing link wins (a source id never moves
    silently) and its canonical id is returned.
    """
    existing = lookup(session, system, entity, source_id)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(Xref(system=system, entity=entity, source_id=source_id,
                             canonical_id=canonical_id))
    except IntegrityError:  # another worker linked it first
        existing = lookup(session, system, entity, source_id)
        if existing is None:  # pragma: no cover - constraint violated by something else
            raise
        return existing
    return canonical_id


def link_many(session: Session, links: Sequence[Link]) -> None:
    """Write ``links`` in one statement; raise :class:`StoreConflict` if one is already taken.

    The links were decided from look-ups made earlier in the transaction. When another
    worker linked one of the same source ids to another canonical id since, the decisions
    built on it are wrong: the caller's transaction must roll back and start again, and the
    look-ups then find the other worker's link. A link already written as it is here is fine.
    """
    wanted = {(system, entity, source_id): cid for system, entity, source_id, cid in links}
    if not wanted:
        return
    inserted = insert_ignore(
        session, Xref,
        [{"system": s, "entity": e, "source_id": i, "canonical_id": c}
         for (s, e, i), c in wanted.items()],
        conflict=("system", "entity", "source_id"),
        returning=(Xref.system, Xref.entity, Xref.source_id),
    )
    clashed = set(wanted) - {tuple(row) for row in inserted}
    if not clashed:
        return
    existing = session.execute(
        select(Xref.system, Xref.entity, Xref.source_id, Xref.canonical_id)
        .where(tuple_(Xref.system, Xref.entity, Xref.source_id).in_(list(clashed)))
    )
    moved = [f"{s}/{e}/{i}" for s, e, i, cid in existing if wanted[(s, e, i)] != cid]
    if moved:
        raise StoreConflict(f"linked meanwhile by another worker: {', '.join(sorted(moved)[:5])}")


def resolve(session: Session, system: str, entity: str, source_id: str) -> str:
    """Canonical id of a source id, minted and linked when it is new."""
    existing = lookup(session, system, entity, source_id)
    if existing is not None:
        return existing
    return link(session, system, entity, source_id,
                new_canonical_id(entity, f"{system}|{source_id}"))


_SOURCE_IDS = select(Xref.source_id).where(
    Xref.system == bindparam("system"), Xref.entity == bindparam("entity"),
    Xref.canonical_id == bindparam("canonical_id"),
).order_by(Xref.id)
_CURRENT_SOURCE_IDS = _SOURCE_IDS.where(Xref.valid_to.is_(None))


def source_ids(
    session: Session, system: str, entity: str, canonical_id: str, *, current: bool = False
) -> list[str]:
    """Every source id that ``system`` uses for a canonical id (oldest first).

    With ``current``, only the links that still hold (no ``valid_to``): after a migration of
    the satellite, its old ids still resolve but the new one is the id to write to.
    """
    statement = _CURRENT_SOURCE_IDS if current else _SOURCE_IDS
    return list(query(session, statement, {
        "system": system, "entity": entity, "canonical_id": canonical_id}).scalars())


#: National registers whose ids identify a record whatever the system that brings it.
NATIONAL_IDS = frozenset({"rpls", "rnb", "siren"})


def match(
    session: Session, system: str, entity: str, source_id: str,
    national_ids: Mapping[str, str | None] | None = None,
) -> str:
    """Canonical id of a source record: national ids first, then the xref, else a new id.

    The source id and every national id given are linked to the result, so the next system
    bringing the same RPLS / RNB / SIREN lands on the same golden record.
    """
    nationals = [(kind, value) for kind, value in (national_ids or {}).items() if value]
    unknown = {kind for kind, _ in nationals} - NATIONAL_IDS
    if unknown:
        raise ValueError(f"not a national id kind: {', '.join(sorted(unknown))}")
    found = next((cid for kind, value in nationals
                  if (cid := lookup(session, kind, entity, value)) is not None), None)
    result = (found or lookup(session, system, entity, source_id)
              or new_canonical_id(entity, f"{system}|{source_id}"))
    link(session, system, entity, source_id, result)
    for kind, value in nationals:
        link(session, kind, entity, value, result)
    return result


def retire(session: Session, system: str, entity: str, source_id: str,
           when: datetime | None = None) -> bool:
    """End a source id's link (it still resolves, but is no longer the one to write to)."""
    result = session.execute(
        update(Xref)
        .where(Xref.system == system, Xref.entity == entity, Xref.source_id == source_id,
               Xref.valid_to.is_(None))
        .values(valid_to=when or utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def merge(session: Session, entity: str, survivor: str, absorbed: str, reason: str) -> int:
    """Make ``absorbed`` redirect to ``survivor``; return how many source ids moved.

    Every source id of the absorbed record now resolves to the survivor; the absorbed
    golden record and its versions stay as they were (history), and :func:`survivor_of`
    follows the redirect for ids already written elsewhere.
    """
    if survivor == absorbed:
        raise ValueError("a record cannot be merged into itself")
    final = survivor_of(session, survivor)
    if final == absorbed:
        raise ValueError(f"{survivor} was itself merged into {absorbed}")
    moved = session.execute(
        update(Xref).where(Xref.entity == entity, Xref.canonical_id == absorbed)
        .values(canonical_id=final)
    ).rowcount  # type: ignore[attr-defined]
    # Earlier merges into the absorbed record now point at the survivor too.
    session.execute(update(XrefMerge).where(XrefMerge.survivor_id == absorbed)
                    .values(survivor_id=final))
    session.add(XrefMerge(absorbed_id=absorbed, survivor_id=final, entity=entity, reason=reason))
    session.flush()
    return int(moved)


_SURVIVOR = select(XrefMerge.survivor_id).where(XrefMerge.absorbed_id == bindparam("canonical_id"))


def survivor_of(session: Session, canonical_id: str) -> str:
    """The id a canonical id redirects to after merges (itself when never merged)."""
    redirect = query(session, _SURVIVOR, {"canonical_id": canonical_id}).scalar()
    return redirect if redirect is not None else canonical_id



def absorbed_into(session: Session, survivor: str) -> list[str]:
    """Canonical ids merged into ``survivor`` (they redirect to it)."""
    return list(session.scalars(select(XrefMerge.absorbed_id)
                                .where(XrefMerge.survivor_id == survivor)))
