"""The ERP's own formats (its field names, not the canonical ones).

Two layers:

* the ERP's API answers the poller reads (:class:`ExportPage`, :class:`ChangesPage`), kept
  loose on the records so one bad record reaches the translate stage (and the DLQ with its
  reason) instead of blocking the whole export;
* the payloads the poller publishes on ``pivot.raw.erp``, one per ERP record or change,
  ``{"event", "event_id", "key", "occurred_at", "data"}``, and the ERP records they carry,
  validated strictly when they are translated.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from canonical_model.money import Money

ErpId = Annotated[str, Field(min_length=1, max_length=64)]
"""An ERP record code (``LOT-0012-03-045``, ``LOC-0004567``, ``BAIL-2019-004567``...)."""
Text = Annotated[str, Field(min_length=1, max_length=200)]
Code = Annotated[str, Field(max_length=64)]
DpeClassErp = Literal["A", "B", "C", "D", "E", "F", "G"]


class _Erp(BaseModel):
    # The ERP may add fields at any release: ignore them, validate what we use.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# --------------------------------------------------------------------------- API answers


class ExportPage(_Erp):
    """``GET /api/v1/export/{entity}``: one page of an entity's full export."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int = Field(ge=0)
    changes_cursor: str = Field(min_length=1)


class ChangeItem(_Erp):
    """One event of the change feed."""

    change_id: int = Field(ge=1)
    type: str
    occurred_at: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ChangesPage(_Erp):
    """``GET /api/v1/changes``: change events after a cursor."""

    items: list[ChangeItem]
    next_cursor: str = Field(min_length=1)
    has_more: bool
    last_change_id: int = Field(ge=0)


# --------------------------------------------------------------------------- ERP records


class Adresse(_Erp):
    """A postal address as the ERP writes it."""

    numero_voie: Code | None = None
    indice_repetition: Code | None = None
    libelle_voie: Text
    code_postal: Code
    ville: Text
    code_insee: Code | None = None


class ResidenceRecord(_Erp):
    """A residence (groupe)."""

    code_residence: ErpId
    nom: Text
    commune: Text
    code_insee: Code | None = None
    adresse: Adresse
    annee_construction: int | None = None


class BuildingRecord(_Erp):
    """A building (bâtiment)."""

    code_batiment: ErpId
    code_residence: ErpId
    libelle: Text
    id_rnb: Code | None = None
    cle_ban: Code | None = None
    adresse: Adresse
    nb_etages: int | None = Field(default=None, description="Floors above the ground floor.")


class LotRecord(_Erp):
    """A lot (unité de gestion, "UG")."""

    code_ug: ErpId
    code_batiment: ErpId
    type_ug: Code = "LOGEMENT"
    numero_rpls: Code | None = None
    typologie: Literal["T1", "T2", "T3", "T4", "T5", "T6"]
    nb_pieces: int
    surface_habitable: Decimal
    etage: int | None = None
    financement: Literal["PLAI", "PLUS", "PLS", "PLI"] | None = None
    dpe_classe_energie: DpeClassErp | None = None
    dpe_classe_ges: DpeClassErp | None = None
    dpe_numero: Code | None = None
    annee_construction: int | None = None
    statut_occupation: Literal["OCCUPE", "PREAVIS", "VACANT"]
    code_bail_en_cours: ErpId | None = None


class TenantRecord(_Erp):
    """A tenant (tiers)."""

    code_tiers: ErpId
    civilite: Literal["M", "MME", "MLLE"] | None = None
    nom: Text
    prenom: Annotated[str, Field(max_length=200)] | None = None
    date_naissance: date | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    telephone: Code | None = None
    statut: Literal["ACTIF", "ANCIEN"] = "ACTIF"


class LeaseRecord(_Erp):
    """A lease (bail)."""

    code_bail: ErpId
    code_ug: ErpId
    titulaires: list[ErpId] = Field(min_length=1, max_length=10)
    date_entree: date
    date_preavis: date | None = None
    date_sortie: date | None = None
    statut: Literal["EN_COURS", "PREAVIS", "RESILIE"]
    loyer_principal: Money
    provision_charges: Money
    depot_garantie: Money | None = None
    assurance_statut: Literal["valid", "expired", "mismatch", "missing"] | None = None


# --------------------------------------------------------------------------- raw payloads


class _Payload(_Erp):
    event_id: str = Field(min_length=1, max_length=512)
    key: str | None = None
    occurred_at: AwareDatetime | None = None


class ResidenceExported(_Payload):
    """``export.residence``: a residence read by the full export."""

    event: Literal["export.residence"]
    data: ResidenceRecord


class BuildingExported(_Payload):
    """``export.building``: a building read by the full export."""

    event: Literal["export.building"]
    data: BuildingRecord


class LotExported(_Payload):
    """``export.lot``: a lot read by the full export."""

    event: Literal["export.lot"]
    data: LotRecord


class TenantExported(_Payload):
    """``export.tenant``: a tenant read by the full export."""

    event: Literal["export.tenant"]
    data: TenantRecord


class LeaseExported(_Payload):
    """``export.lease``: a lease read by the full export."""

    event: Literal["export.lease"]
    data: LeaseRecord


class LeaseSignedData(_Erp):
    """``data`` of ``lease.signed``: the new lease, its lot and its holders."""

    lease: LeaseRecord
    lot: LotRecord
    tenants: list[TenantRecord] = Field(min_length=1, max_length=10)


class LeaseSignedChange(_Payload):
    """``lease.signed``: a new lease on a vacant lot."""

    event: Literal["lease.signed"]
    data: LeaseSignedData


class NoticeGivenData(_Erp):
    """``data`` of ``lease.notice_given``: the lease under notice and its lot."""

    lease: LeaseRecord
    lot: LotRecord


class NoticeGivenChange(_Payload):
    """``lease.notice_given``: the tenant gave notice (préavis)."""

    event: Literal["lease.notice_given"]
    data: NoticeGivenData


class TerminatedData(_Erp):
    """``data`` of ``lease.terminated``: the ended lease, its vacant lot, its former holders."""

    lease: LeaseRecord
    lot: LotRecord
    tenants: list[TenantRecord] = Field(default_factory=list, max_length=10)


class TerminatedChange(_Payload):
    """``lease.terminated``: the lease ended, the lot is vacant."""

    event: Literal["lease.terminated"]
    data: TerminatedData


class TenantUpdatedData(_Erp):
    """``data`` of ``tenant.updated``: the tenant and the ERP fields that changed."""

    tenant: TenantRecord
    changed_fields: list[Code] = Field(default_factory=list, max_length=50)


class TenantUpdatedChange(_Payload):
    """``tenant.updated``: a tenant's name or contact changed."""

    event: Literal["tenant.updated"]
    data: TenantUpdatedData
