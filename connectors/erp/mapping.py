"""ERP mappings: the estate, tenants and leases in; billing lines and insurance status out.

Inbound functions are pure: an ERP payload and the mapping context give canonical events.
Canonical ids always come from ``ctx.canonical_id`` of the ERP code, references included, so
whichever record arrives first mints the id. Lots and buildings pass their national id (RPLS,
RNB) so a record another system brought with the same id is the same golden record; only a
*valid* national id is matched on (an invalid one is kept on the record, where the quality
rules report it, but must not merge two golden records).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from canonical_model import (
    Address,
    Building,
    Civility,
    DpeClass,
    Financing,
    InsuranceStatus,
    Lease,
    LeaseStatus,
    Lot,
    OccupancyStatus,
    Residence,
    Tenant,
    TenantStatus,
    Typology,
    normalise_identifier,
    validate_identifier,
)
from canonical_model.events import (
    BuildingUpserted,
    CanonicalEvent,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    InterventionCompleted,
    LeaseNoticeGiven,
    LeaseSigned,
    LeaseTerminated,
    LotOccupancyChanged,
    LotUpserted,
    ResidenceUpserted,
    TenantUpserted,
)
from canonical_model.money import format_money
from connectors.erp.payloads import (
    Adresse,
    BuildingExported,
    BuildingRecord,
    LeaseExported,
    LeaseRecord,
    LeaseSignedChange,
    LotExported,
    LotRecord,
    NoticeGivenChange,
    ResidenceExported,
    TenantExported,
    TenantRecord,
    TenantUpdatedChange,
    TerminatedChange,
)
from connectors.sdk.context import MappingContext, OutboundContext
from pivot.errors import MappingError
from pivot.http import IDEMPOTENCY_HEADER, raise_for_status

SYSTEM = "erp"
#: System whose intervention references the billing label quotes (``URB-2026-000123``).
INTERVENTION_SYSTEM = "urbest"

OCCUPANCY: Mapping[str, OccupancyStatus] = {
    "OCCUPE": OccupancyStatus.OCCUPIED,
    "PREAVIS": OccupancyStatus.NOTICE,
    "VACANT": OccupancyStatus.VACANT,
}
LEASE_STATUS: Mapping[str, LeaseStatus] = {
    "EN_COURS": LeaseStatus.ACTIVE,
    "PREAVIS": LeaseStatus.NOTICE,
    "RESILIE": LeaseStatus.TERMINATED,
}
TENANT_STATUS: Mapping[str, TenantStatus] = {"ACTIF": TenantStatus.ACTIVE, "ANCIEN": TenantStatus.FORMER}
#: "Mademoiselle" left official forms in 2012; old ERP records still carry it.
CIVILITY: Mapping[str, Civility] = {"M": Civility.M, "MME": Civility.MME, "MLLE": Civility.MME}
#: The only kind of ERP "UG" the canonical model has a lot for.
DWELLING = "LOGEMENT"

try:
    LANDLORD_TZ: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on the host: fall back to UTC days
    LANDLORD_TZ = None


# ------------------------------------------------------------------------------ helpers


def _national(kind: str, value: str | None) -> str | None:
    """The normalised national id to match on, or None when absent or invalid."""
    if not value or validate_identifier(kind, value) is not None:
        return None
    return normalise_identifier(kind, value)


def _blank_to_none(value: str | None) -> str | None:
    return value or None


def map_address(adresse: Adresse, *, ban_key: str | None = None) -> Address:
    """An ERP address as a canonical address (``12 bis Rue Octavie``)."""
    number = " ".join(p for p in (adresse.numero_voie, adresse.indice_repetition) if p)
    return Address(
        street=f"{number} {adresse.libelle_voie}" if number else adresse.libelle_voie,
        postcode=adresse.code_postal,
        city=adresse.ville,
        insee_code=_blank_to_none(adresse.code_insee),
        ban_key=_blank_to_none(ban_key),
    )


def map_lot(record: LotRecord, ctx: MappingContext) -> Lot:
    """An ERP lot ("UG") as a canonical lot; its RPLS number keys the golden record first."""
    if record.type_ug != DWELLING:
        raise MappingError(
            f"UG {record.code_ug} is a {record.type_ug!r}, not a dwelling: the canonical model has "
            "no lot for it"
        )
    rpls = _blank_to_none(record.numero_rpls)
    return Lot(
        id=ctx.canonical_id("lot", record.code_ug, national_ids={"rpls": _national("rpls_id", rpls)}),
        building_id=ctx.canonical_id("building", record.code_batiment),
        rpls_id=rpls,
        typology=Typology(record.typologie),
        habitable_surface_m2=record.surface_habitable,
        rooms=record.nb_pieces,
        floor=record.etage,
        financing=Financing(record.financement) if record.financement else None,
        dpe_energy_class=DpeClass(record.dpe_classe_energie) if record.dpe_classe_energie else None,
        dpe_ges_class=DpeClass(record.dpe_classe_ges) if record.dpe_classe_ges else None,
        dpe_number=_blank_to_none(record.dpe_numero),
        construction_year=record.annee_construction,
        occupancy_status=OCCUPANCY[record.statut_occupation],
    )


def map_tenant(record: TenantRecord, ctx: MappingContext) -> Tenant:
    """An ERP tenant (tiers) as a canonical tenant (the ERP keeps no SIREN of tenants)."""
    return Tenant(
        id=ctx.canonical_id("tenant", record.code_tiers),
        civility=CIVILITY[record.civilite] if record.civilite else None,
        first_name=_blank_to_none(record.prenom),
        last_name=record.nom,
        email=_blank_to_none(record.email),
        phone=_blank_to_none(record.telephone),
        birth_date=record.date_naissance,
        status=TENANT_STATUS[record.statut],
    )


def map_lease(record: LeaseRecord, ctx: MappingContext) -> Lease:
    """An ERP lease (bail) as a canonical lease."""
    return Lease(
        id=ctx.canonical_id("lease", record.code_bail),
        lot_id=ctx.canonical_id("lot", record.code_ug),
        holder_ids=[ctx.canonical_id("tenant", code) for code in record.titulaires],
        start_date=record.date_entree,
        end_date=record.date_sortie,
        notice_date=record.date_preavis,
        status=LEASE_STATUS[record.statut],
        monthly_rent=record.loyer_principal,
        monthly_charges=record.provision_charges,
        deposit=record.depot_garantie,
        insurance_status=InsuranceStatus(record.assurance_statut) if record.assurance_statut else None,
    )


def _lease_event(lease: Lease) -> CanonicalEvent:
    """A lease read whole: signed (active or under notice), or terminated."""
    if lease.status == LeaseStatus.TERMINATED:
        return LeaseTerminated.from_entity(lease)
    return LeaseSigned.from_entity(lease)


def _same_lot(lease: LeaseRecord, lot: LotRecord) -> None:
    if lease.code_ug != lot.code_ug:
        raise MappingError(
            f"change of lease {lease.code_bail} carries lot {lot.code_ug}, "
            f"but the lease is on {lease.code_ug}"
        )


# ------------------------------------------------------------------------------ inbound


def map_residence_export(payload: ResidenceExported, ctx: MappingContext) -> list[CanonicalEvent]:
    """``export.residence`` → ``ResidenceUpserted``."""
    record = payload.data
    residence = Residence(
        id=ctx.canonical_id("residence", record.code_residence),
        name=record.nom,
        address=map_address(record.adresse),
        commune=record.commune,
        construction_year=record.annee_construction,
    )
    return [ResidenceUpserted.from_entity(residence)]


def map_building(record: BuildingRecord, ctx: MappingContext) -> Building:
    """An ERP building as a canonical building; its RNB id keys the golden record first."""
    rnb = _blank_to_none(record.id_rnb)
    return Building(
        id=ctx.canonical_id("building", record.code_batiment,
                            national_ids={"rnb": _national("rnb_id", rnb)}),
        residence_id=ctx.canonical_id("residence", record.code_residence),
        name=record.libelle,
        rnb_id=rnb,
        ban_key=_blank_to_none(record.cle_ban),
        address=map_address(record.adresse, ban_key=record.cle_ban),
        # The ERP counts floors above the ground floor (R+4 is 4); the canonical model counts
        # levels, ground floor included (R+4 is 5).
        floors=record.nb_etages + 1 if record.nb_etages is not None else None,
    )


def map_building_export(payload: BuildingExported, ctx: MappingContext) -> list[CanonicalEvent]:
    """``export.building`` → ``BuildingUpserted``."""
    return [BuildingUpserted.from_entity(map_building(payload.data, ctx))]


def map_lot_export(payload: LotExported, ctx: MappingContext) -> list[CanonicalEvent]:
    """``export.lot`` → ``LotUpserted``."""
    return [LotUpserted.from_entity(map_lot(payload.data, ctx))]


def map_tenant_export(payload: TenantExported, ctx: MappingContext) -> list[CanonicalEvent]:
    """``export.tenant`` → ``TenantUpserted``."""
    return [TenantUpserted.from_entity(map_tenant(payload.data, ctx))]


def map_lease_export(payload: LeaseExported, ctx: MappingContext) -> list[CanonicalEvent]:
    """``export.lease`` → ``LeaseSigned`` (active or under notice), or ``LeaseTerminated``."""
    return [_lease_event(map_lease(payload.data, ctx))]


def map_lease_signed(payload: LeaseSignedChange, ctx: MappingContext) -> list[CanonicalEvent]:
    """``lease.signed`` → ``LeaseSigned``, ``TenantUpserted`` per holder, ``LotOccupancyChanged``."""
    data = payload.data
    _same_lot(data.lease, data.lot)
    return [
        LeaseSigned.from_entity(map_lease(data.lease, ctx)),
        *(TenantUpserted.from_entity(map_tenant(t, ctx)) for t in data.tenants),
        LotOccupancyChanged.from_entity(map_lot(data.lot, ctx)),
    ]


def map_notice_given(payload: NoticeGivenChange, ctx: MappingContext) -> list[CanonicalEvent]:
    """``lease.notice_given`` → ``LeaseNoticeGiven``, ``LotOccupancyChanged`` (notice)."""
    data = payload.data
    _same_lot(data.lease, data.lot)
    return [
        LeaseNoticeGiven.from_entity(map_lease(data.lease, ctx)),
        LotOccupancyChanged.from_entity(map_lot(data.lot, ctx)),
    ]


def map_terminated(payload: TerminatedChange, ctx: MappingContext) -> list[CanonicalEvent]:
    """``lease.terminated`` → ``LeaseTerminated``, ``LotOccupancyChanged`` (vacant), holders."""
    data = payload.data
    _same_lot(data.lease, data.lot)
    return [
        LeaseTerminated.from_entity(map_lease(data.lease, ctx)),
        LotOccupancyChanged.from_entity(map_lot(data.lot, ctx)),
        *(TenantUpserted.from_entity(map_tenant(t, ctx)) for t in data.tenants),
    ]


def map_tenant_updated(payload: TenantUpdatedChange, ctx: MappingContext) -> list[CanonicalEvent]:
    """``tenant.updated`` → ``TenantUpserted``."""
    return [TenantUpserted.from_entity(map_tenant(payload.data.tenant, ctx))]


# ----------------------------------------------------------------------------- outbound


def landlord_day(moment: datetime) -> date:
    """The landlord's calendar day (Europe/Paris) of a UTC time: billing periods are French."""
    return moment.astimezone(LANDLORD_TZ or UTC).date()


def intervention_reference(event: InterventionCompleted, ctx: OutboundContext) -> str:
    """The reference people know an intervention by: the maintenance tool's, else a short one."""
    found = ctx.source_id("intervention", event.id, system=INTERVENTION_SYSTEM)
    return found or "INT-" + event.id.rsplit("_", 1)[-1][:8].upper()


def bill_intervention(event: InterventionCompleted, ctx: OutboundContext) -> None:
    """Bill a rechargeable intervention's cost on the lease that held the lot that day.

    Nothing to bill (not rechargeable, no cost, zero cost) makes no call.

    Raises:
        MappingError: The intervention has no lot, no lease held the lot on the completion
            day, or the ERP does not know that lease.

    """
    if not event.rechargeable_to_tenant or not event.cost:
        return
    if event.lot_id is None:
        raise MappingError(f"rechargeable intervention {event.id} has no lot to bill")
    assert event.completed_at is not None  # required by InterventionCompleted
    day = landlord_day(event.completed_at)
    lease_id = ctx.lease_of_lot(event.lot_id, day)
    if lease_id is None:
        raise MappingError(
            f"rechargeable intervention {event.id}: no lease held lot {event.lot_id} on {day}"
        )
    erp_lease = ctx.source_id("lease", lease_id)
    if erp_lease is None:
        raise MappingError(f"rechargeable intervention {event.id}: lease {lease_id} is unknown to the ERP")
    label = f"Refacturation intervention {intervention_reference(event, ctx)} : {event.title}"
    body = {
        "lease_id": erp_lease,
        "label": label[:200],
        "amount_eur": format_money(event.cost),
        "intervention_ref": event.id,
        "period": f"{day:%Y-%m}",
    }
    raise_for_status(ctx.client.post(
        "/api/v1/billing-lines", json=body, headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    ))


def report_insurance(
    event: InsuranceCertificateValidated | InsuranceCertificateRejected, ctx: OutboundContext
) -> None:
    """Write a checked certificate's outcome on the lease (``assurance_statut``).

    Raises:
        MappingError: The certificate is matched to no lease, or to one the ERP does not know.

    """
    if event.lease_id is None:
        raise MappingError(f"insurance certificate {event.id} is matched to no lease")
    erp_lease = ctx.source_id("lease", event.lease_id)
    if erp_lease is None:
        raise MappingError(
            f"insurance certificate {event.id}: lease {event.lease_id} is unknown to the ERP"
        )
    key = ctx.idempotency_key()
    body = {
        "status": str(event.status),
        "valid_to": event.valid_to.isoformat(),
        "checked_at": ctx.event_time.isoformat(timespec="seconds"),
    }
    raise_for_status(ctx.client.put(
        f"/api/v1/leases/{quote(erp_lease, safe='')}/insurance", json=body, headers={IDEMPOTENCY_HEADER: key},
    ))


# ---------------------------------------------------------------- identity hints

#: The source ids each ERP record kind resolves: (entity, field, list field?).
_RESOLVES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "residence": (("residence", "code_residence", False),),
    "building": (("building", "code_batiment", False), ("residence", "code_residence", False)),
    "lot": (("lot", "code_ug", False), ("building", "code_batiment", False)),
    "tenant": (("tenant", "code_tiers", False),),
    "lease": (("lease", "code_bail", False), ("lot", "code_ug", False), ("tenant", "titulaires", True)),
}
_NATIONAL = {"lot": ("rpls", "rpls_id", "numero_rpls"), "building": ("rnb", "rnb_id", "id_rnb")}


def identities(system: str, kind: object, data: object) -> list[tuple[str, str, str]]:
    """The look-ups mapping an ERP payload of type ``kind`` makes (``Connector.identities``)."""
    if not isinstance(kind, str) or not isinstance(data, Mapping):
        return []
    if kind.startswith("export."):
        records = [(kind.removeprefix("export."), data)]
    else:  # a change: its lease, lot and tenants
        records = [(name, data.get(name)) for name in ("lease", "lot", "tenant")]
        records += [("tenant", t) for t in data.get("tenants") or () if isinstance(t, Mapping)]
    found: list[tuple[str, str, str]] = []
    for name, record in records:
        if not isinstance(record, Mapping):
            continue
        for entity, key, many in _RESOLVES.get(name, ()):
            values = record.get(key)
            for value in (values if many and isinstance(values, list) else [values]):
                if isinstance(value, str) and value.strip():
                    found.append((system, entity, value.strip()))
        if name in _NATIONAL:
            system, id_kind, key = _NATIONAL[name]
            national = _national(id_kind, _blank_to_none(str(record.get(key) or "").strip()))
            if national:
                found.append((system, name, national))
    return found
