"""Sandbox of the ERP: master of tenants (tiers), leases (baux), the estate and billing (quittancement).

A stateful FastAPI app playing the landlord's ERP on loopback. It holds a seeded estate of the
Lyon area (see :mod:`connectors.erp.data`): residences, buildings, lots ("UG"), tenants and
leases. The hub reads a full export page by page with an opaque cursor, then polls the
incremental change feed; it writes billing lines (rechargeable intervention costs) and the
home-insurance status of leases. Every write needs an ``Idempotency-Key`` and is applied once.

Endpoints (faults apply to ``/api/*`` only; reads only when ``faults_on_reads``):

* ``GET /api/v1/export/{entity}?cursor=&limit=`` — ``entity`` in ``residences``, ``buildings``,
  ``lots``, ``tenants``, ``leases``; ``limit`` 1..1000 (default 500). Answers
  ``{"items": [...], "next_cursor": str | null, "total": n, "changes_cursor": str}``: records in
  id order, ``next_cursor`` null on the last page, ``total`` the entity's record count, and
  ``changes_cursor`` the change-feed position when the export started (its first page): poll
  ``/api/v1/changes?since=<changes_cursor>`` after the export to get what changed meanwhile;
* ``GET /api/v1/changes?since=&limit=`` — change events after ``since`` (an opaque cursor, or a
  ``change_id`` as digits; from the start when absent), ``limit`` 1..1000 (default 500).
  Answers ``{"items": [...], "next_cursor": str, "has_more": bool, "last_change_id": n}``;
  ``next_cursor`` is never null (keep it and poll again). Each event is
  ``{"change_id": int, "type": str, "occurred_at": ISO Z, "data": {...}}``:

  - ``lease.signed`` — ``data``: ``lease``, ``lot``, ``tenants`` (the holders, created with it);
  - ``lease.notice_given`` — ``data``: ``lease`` (``statut`` ``PREAVIS``, ``date_preavis``,
    ``date_sortie`` = planned departure), ``lot`` (``statut_occupation`` ``PREAVIS``);
  - ``lease.terminated`` — ``data``: ``lease`` (``statut`` ``RESILIE``, ``date_sortie``),
    ``lot`` (``VACANT``), ``tenants`` (holders; ``statut`` ``ANCIEN`` unless they hold
    another current lease);
  - ``tenant.updated`` — ``data``: ``tenant``, ``changed_fields`` (ERP field names);

  records in ``data`` are whole records as they were right after the change;
* ``GET /api/v1/{entity}/{id}`` — one record (404 ``unknown_<entity>``);
* ``POST /api/v1/billing-lines`` — body ``{"lease_id", "label", "amount_eur": "123.40",
  "intervention_ref", "period": "2026-11"}`` → 201 ``{"id": "FAC-2026-000001", "lease_id",
  "lot_id", "tenant_ids", "label", "amount_eur", "intervention_ref", "period",
  "status": "pending", "created_at"}`` (the year of the id is the period's);
* ``GET /api/v1/billing-lines?lease_id=&intervention_ref=`` — ``{"items": [...], "total": n}``;
* ``PUT /api/v1/leases/{lease_id}/insurance`` — body ``{"status": "valid" | "expired" |
  "mismatch" | "missing", "valid_to": date | null, "checked_at": ISO datetime}`` → 200, the
  lease (``assurance_statut``, ``assurance_date_fin``, ``assurance_date_controle`` set);
* ``POST /sandbox/changes`` — script one change (bodies: :class:`NoticeGivenIn`,
  :class:`TerminatedIn`, :class:`SignedIn`, :class:`TenantUpdatedIn`) → 201, the event;
* ``POST /sandbox/changes/random`` — ``{"count": n}``: n plausible changes drawn from the seed
  → 201 ``{"changes": [...]}``;
* ``GET /sandbox/state``, ``GET|PUT /sandbox/faults``, ``GET /healthz``.

A replayed write (same key, same body) answers 200 with the stored JSON and the header
``Idempotent-Replayed: true``; the same key with another body is a 422. Errors are
``{"error": code, "detail": message}``.

Records, in the ERP's own field names (dates ``YYYY-MM-DD``, amounts decimal strings
``"412.37"``, times ISO-8601 UTC with ``Z``):

* **residences** — ``code_residence`` (``RES-0012``), ``nom``, ``commune``, ``code_insee``,
  ``code_postal``, ``adresse``, ``annee_construction``, ``financement_principal``, ``agence``,
  ``nb_batiments``, ``nb_logements``;
* an ``adresse`` is ``{"numero_voie", "indice_repetition" (null | "bis"), "libelle_voie",
  "code_postal", "ville", "code_insee"}``;
* **buildings** — ``code_batiment`` (``BAT-0012-03``), ``code_residence``, ``libelle``,
  ``id_rnb`` (12 characters, RNB alphabet), ``cle_ban`` (``69266_1234_00012[_bis]``),
  ``adresse``, ``nb_etages`` (floors above the ground floor), ``nb_logements``, ``ascenseur``,
  ``annee_construction``;
* **lots** — ``code_ug`` (``LOT-0012-03-045``), ``code_batiment``, ``code_residence``,
  ``type_ug`` (``LOGEMENT``), ``numero_rpls`` (INSEE code + 6 digits), ``typologie``
  (``T1``..``T6``), ``nb_pieces``, ``surface_habitable`` (``"67.40"`` m²), ``etage`` (0 = ground
  floor), ``financement`` (``PLAI``/``PLUS``/``PLS``/``PLI``), ``dpe_classe_energie``,
  ``dpe_classe_ges`` (``A``..``G``), ``dpe_numero`` (``2169E0123456A``), ``dpe_date``,
  ``annee_construction``, ``statut_occupation`` (``OCCUPE``/``PREAVIS``/``VACANT``),
  ``code_bail_en_cours`` (current lease or null), ``date_maj``;
* **tenants** — ``code_tiers`` (``LOC-0004567``), ``civilite`` (``M``/``MME``), ``nom``
  (upper case), ``prenom``, ``date_naissance``, ``email`` (or null), ``telephone`` (E.164, or
  null), ``statut`` (``ACTIF``/``ANCIEN``), ``date_maj``;
* **leases** — ``code_bail`` (``BAIL-2019-004567``), ``code_ug``, ``titulaires`` (1 or 2
  ``code_tiers``), ``date_entree``, ``date_preavis``, ``date_sortie``, ``statut``
  (``EN_COURS``/``PREAVIS``/``RESILIE``), ``loyer_principal``, ``provision_charges``,
  ``depot_garantie``, ``assurance_statut`` (null until the hub writes it, then
  ``valid``/``expired``/``mismatch``/``missing``), ``assurance_date_fin``,
  ``assurance_date_controle``, ``date_maj``.

The ERP is polled: it sends no webhooks (``hub_url`` and ``webhook_secret`` are kept on the
state for symmetry with the other sandboxes).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from connectors.erp.data import (
    NOTICE_PERIOD_DAYS,
    RENT_PER_M2,
    TenantFactory,
    generate_dataset,
    money,
)
from connectors.sdk.sandbox import (
    FaultSettings,
    IdempotencyKeyHeader,
    SandboxHTTPError,
    SandboxState,
    add_sandbox_routes,
    utc_now_iso,
    write_response,
)

#: Exported entities and the field holding each one's ERP id.
ENTITY_KEYS: dict[str, str] = {
    "residences": "code_residence",
    "buildings": "code_batiment",
    "lots": "code_ug",
    "tenants": "code_tiers",
    "leases": "code_bail",
}
_SINGULAR = {"residences": "residence", "buildings": "building", "lots": "lot",
             "tenants": "tenant", "leases": "lease"}
#: Change event types of the feed.
CHANGE_TYPES = ("lease.signed", "lease.notice_given", "lease.terminated", "tenant.updated")
#: Lease statuses under which the lease is current (its lot is let).
CURRENT_LEASE = frozenset({"EN_COURS", "PREAVIS"})
MAX_PAGE = 1000
_CURSOR_VERSION = "erp1"


def _encode_cursor(*parts: object) -> str:
    raw = "|".join([_CURSOR_VERSION, *map(str, parts)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, kind: str) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    parts = raw.split("|")
    if len(parts) < 2 or parts[0] != _CURSOR_VERSION or parts[1] != kind:
        raise SandboxHTTPError(
            400, "invalid_cursor", f"cursor {cursor!r} was not issued by this listing ({kind})"
        )
    return parts[2:]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class _Table:
    """Records of one entity in id order, an index by id and a cache of their JSON encoding."""

    def __init__(self, key: str, records: list[dict[str, Any]]) -> None:
        self.key = key
        self.records = records
        self.position = {r[key]: i for i, r in enumerate(records)}
        self.encoded: list[bytes | None] = [None] * len(records)

    def get(self, record_id: str) -> dict[str, Any] | None:
        index = self.position.get(record_id)
        return None if index is None else self.records[index]

    def add(self, record: dict[str, Any]) -> None:
        self.position[record[self.key]] = len(self.records)
        self.records.append(record)
        self.encoded.append(None)

    def touch(self, record: dict[str, Any]) -> None:
        """Forget the cached JSON of a record that changed."""
        self.encoded[self.position[record[self.key]]] = None

    def page(self, offset: int, limit: int) -> list[bytes]:
        out = []
        for index in range(offset, min(offset + limit, len(self.records))):
            chunk = self.encoded[index]
            if chunk is None:
                chunk = self.encoded[index] = _dumps(self.records[index])
            out.append(chunk)
        return out


class NoticeGivenIn(BaseModel):
    """Script a notice (préavis): the lease goes ``PREAVIS``, its lot too."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["lease.notice_given"]
    lease_id: str
    notice_date: date | None = None
    """Date the notice was received (today by default)."""
    end_date: date | None = None
    """Planned departure (notice date + one month by default)."""


class TerminatedIn(BaseModel):
    """Script a termination: the lease goes ``RESILIE``, its lot ``VACANT``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["lease.terminated"]
    lease_id: str
    end_date: date | None = None
    """Departure date (today by default)."""


class SignedIn(BaseModel):
    """Script a new lease on a vacant lot, with new tenants as holders."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["lease.signed"]
    lot_id: str | None = None
    """The vacant lot let (drawn among vacant lots when absent)."""
    start_date: date | None = None
    """Start of the lease (today by default)."""
    holders: int | None = Field(default=None, ge=1, le=2)
    """Number of holders (drawn when absent)."""


class TenantUpdatedIn(BaseModel):
    """Script a change of a tenant's contact or name (a new phone is drawn when none is given)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["tenant.updated"]
    tenant_id: str
    phone: str | None = None
    email: str | None = None
    last_name: str | None = None


ChangeIn = Annotated[
    NoticeGivenIn | TerminatedIn | SignedIn | TenantUpdatedIn, Field(discriminator="type")
]


class RandomChangesIn(BaseModel):
    """Body of ``POST /sandbox/changes/random``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=1000)


class BillingLineIn(BaseModel):
    """Body of ``POST /api/v1/billing-lines``: a rechargeable cost to bill on a lease."""

    model_config = ConfigDict(extra="forbid")

    lease_id: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=200)
    amount_eur: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    intervention_ref: str = Field(min_length=1, max_length=128)
    period: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class InsuranceIn(BaseModel):
    """Body of ``PUT /api/v1/leases/{lease_id}/insurance``."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["valid", "expired", "mismatch", "missing"]
    valid_to: date | None = None
    checked_at: datetime


def _today() -> date:
    return datetime.now(UTC).date()


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc_now_iso(aware.timestamp())


class ErpState(SandboxState):
    """State of the ERP sandbox: the estate, tenants, leases, change feed and billing lines.

    Args:
        seed: Seed of the data, of scripted random changes and of faults.
        lots: Number of lots (dwellings) of the estate.
        hub_url: Base URL of the hub (kept for symmetry: the ERP is polled, it pushes nothing).
        webhook_secret: HMAC key shared with the hub (unused: see ``hub_url``).
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery of a write again.

    """

    def __init__(
        self,
        *,
        seed: int = 42,
        lots: int = 2000,
        hub_url: str | None = None,
        webhook_secret: str = "pivot-dev-secret",
        faults: FaultSettings | None = None,
        honour_idempotency_keys: bool = True,
    ) -> None:
        super().__init__(
            seed=seed, faults=faults, honour_idempotency_keys=honour_idempotency_keys
        )
        self.hub_url = hub_url
        self.webhook_secret = webhook_secret
        data = generate_dataset(seed, lots)
        self.tables = {
            "residences": _Table("code_residence", data.residences),
            "buildings": _Table("code_batiment", data.buildings),
            "lots": _Table("code_ug", data.lots),
            "tenants": _Table("code_tiers", data.tenants),
            "leases": _Table("code_bail", data.leases),
        }
        self.changes: list[dict[str, Any]] = []
        self.billing_lines: list[dict[str, Any]] = []
        self.insurance_updates: list[dict[str, Any]] = []
        self._billing_seq: dict[str, int] = {}
        self._rng = random.Random(f"erp-changes:{seed}")
        self._people = TenantFactory(self._rng)
        for tenant in data.tenants:
            if tenant["telephone"]:
                self._people.phones.add(tenant["telephone"])
            if tenant["email"]:
                self._people.emails.add(tenant["email"])

    # -- reads -------------------------------------------------------------------------------

    def _table(self, entity: str) -> _Table:
        table = self.tables.get(entity)
        if table is None:
            known = ", ".join(ENTITY_KEYS)
            raise SandboxHTTPError(404, "unknown_entity", f"no entity {entity!r}; known: {known}")
        return table

    def export_page(self, entity: str, cursor: str | None, limit: int) -> bytes:
        """Return one page of the export of ``entity`` as JSON bytes.

        Raises:
            SandboxHTTPError: 404 for an unknown entity, 400 for a cursor that is not one of
                this entity's.

        """
        table = self._table(entity)
        with self.lock:
            total = len(table.records)
            if cursor:
                parts = _decode_cursor(cursor, f"export:{entity}")
                try:
                    offset, head = int(parts[0]), int(parts[1])
                except (IndexError, ValueError):
                    raise SandboxHTTPError(
                        400, "invalid_cursor", f"cursor {cursor!r} is malformed"
                    ) from None
                if not 0 <= offset <= total:
                    raise SandboxHTTPError(400, "invalid_cursor", f"cursor {cursor!r} is out of range")
            else:
                offset, head = 0, len(self.changes)
            chunks = table.page(offset, limit)
            end = offset + len(chunks)
        next_cursor = _encode_cursor(f"export:{entity}", end, head) if end < total else None
        return b"".join(
            (
                b'{"items":[',
                b",".join(chunks),
                b'],"next_cursor":',
                _dumps(next_cursor),
                b',"total":',
                str(total).encode(),
                b',"changes_cursor":',
                _dumps(_encode_cursor("changes", head)),
                b"}",
            )
        )

    def record(self, entity: str, record_id: str) -> dict[str, Any]:
        """Return a copy of one record.

        Raises:
            SandboxHTTPError: 404 when the entity or the record is unknown.

        """
        table = self._table(entity)
        with self.lock:
            found = table.get(record_id)
            if found is None:
                singular = _SINGULAR[entity]
                raise SandboxHTTPError(404, f"unknown_{singular}", f"no {singular} {record_id!r}")
            return copy.deepcopy(found)

    def changes_page(self, since: str | None, limit: int) -> dict[str, Any]:
        """Return the change events after ``since`` (a cursor or a change id), at most ``limit``.

        Raises:
            SandboxHTTPError: 400 for a malformed cursor.

        """
        after = 0
        if since:
            if since.isdigit():
                after = int(since)
            else:
                parts = _decode_cursor(since, "changes")
                if len(parts) != 1 or not parts[0].isdigit():
                    raise SandboxHTTPError(400, "invalid_cursor", f"cursor {since!r} is malformed")
                after = int(parts[0])
        with self.lock:
            items = copy.deepcopy(self.changes[after : after + limit])
            last = items[-1]["change_id"] if items else min(after, len(self.changes))
            return {
                "items": items,
                "next_cursor": _encode_cursor("changes", last),
                "has_more": last < len(self.changes),
                "last_change_id": len(self.changes),
            }

    # -- changes -----------------------------------------------------------------------------

    def _lease(self, lease_id: str) -> dict[str, Any]:
        lease = self.tables["leases"].get(lease_id)
        if lease is None:
            raise SandboxHTTPError(404, "unknown_lease", f"no lease {lease_id!r}")
        return lease

    def _touch(self, entity: str, record: dict[str, Any], now_iso: str) -> None:
        if "date_maj" in record:
            record["date_maj"] = now_iso
        self.tables[entity].touch(record)

    def _emit(self, change_type: str, data: dict[str, Any], now_iso: str) -> dict[str, Any]:
        event = {
            "change_id": len(self.changes) + 1,
            "type": change_type,
            "occurred_at": now_iso,
            "data": copy.deepcopy(data),
        }
        self.changes.append(event)
        return copy.deepcopy(event)

    def apply_change(self, change: BaseModel) -> dict[str, Any]:
        """Apply one scripted change to the ERP's data and append its event to the feed.

        Returns:
            The change event.

        Raises:
            SandboxHTTPError: 404 for an unknown lease, lot or tenant; 409 when the lifecycle
                refuses the change (notice on a lease not ``EN_COURS``, a lot not vacant...).

        """
        with self.lock:
            if isinstance(change, NoticeGivenIn):
                return self._give_notice(change.lease_id, change.notice_date, change.end_date)
            if isinstance(change, TerminatedIn):
                return self._terminate(change.lease_id, change.end_date)
            if isinstance(change, SignedIn):
                return self._sign(change.lot_id, change.start_date, change.holders)
            assert isinstance(change, TenantUpdatedIn)
            return self._update_tenant(change)

    def _give_notice(
        self, lease_id: str, notice_date: date | None, end_date: date | None
    ) -> dict[str, Any]:
        lease = self._lease(lease_id)
        if lease["statut"] != "EN_COURS":
            raise SandboxHTTPError(
                409, "invalid_transition",
                f"lease {lease_id} is {lease['statut']}: notice needs a lease EN_COURS",
            )
        notice = notice_date or _today()
        end = end_date or notice + timedelta(days=NOTICE_PERIOD_DAYS)
        if end < notice:
            raise SandboxHTTPError(409, "invalid_dates", "end_date is before notice_date")
        now_iso = utc_now_iso()
        lot = self.tables["lots"].records[self.tables["lots"].position[lease["code_ug"]]]
        lease.update(statut="PREAVIS", date_preavis=notice.isoformat(), date_sortie=end.isoformat())
        lot["statut_occupation"] = "PREAVIS"
        self._touch("leases", lease, now_iso)
        self._touch("lots", lot, now_iso)
        return self._emit("lease.notice_given", {"lease": lease, "lot": lot}, now_iso)

    def _terminate(self, lease_id: str, end_date: date | None) -> dict[str, Any]:
        lease = self._lease(lease_id)
        if lease["statut"] not in CURRENT_LEASE:
            raise SandboxHTTPError(
                409, "invalid_transition", f"lease {lease_id} is already {lease['statut']}"
            )
        end = end_date or _today()
        now_iso = utc_now_iso()
        lots = self.tables["lots"]
        lot = lots.records[lots.position[lease["code_ug"]]]
        lease.update(statut="RESILIE", date_sortie=end.isoformat())
        lot.update(statut_occupation="VACANT", code_bail_en_cours=None)
        self._touch("leases", lease, now_iso)
        self._touch("lots", lot, now_iso)
        still_holding = {
            holder
            for other in self.tables["leases"].records
            if other["statut"] in CURRENT_LEASE
            for holder in other["titulaires"]
        }
        tenants = []
        for holder in lease["titulaires"]:
            tenant = self.tables["tenants"].get(holder)
            if tenant is None:
                continue
            if holder not in still_holding and tenant["statut"] != "ANCIEN":
                tenant["statut"] = "ANCIEN"
                self._touch("tenants", tenant, now_iso)
            tenants.append(tenant)
        return self._emit(
            "lease.terminated", {"lease": lease, "lot": lot, "tenants": tenants}, now_iso
        )

    def _sign(self, lot_id: str | None, start_date: date | None, holders: int | None) -> dict[str, Any]:
        lots = self.tables["lots"]
        if lot_id is None:
            vacant = [lot for lot in lots.records if lot["statut_occupation"] == "VACANT"]
            if not vacant:
                raise SandboxHTTPError(409, "no_vacant_lot", "every lot is let")
            lot = self._rng.choice(vacant)
        else:
            found = lots.get(lot_id)
            if found is None:
                raise SandboxHTTPError(404, "unknown_lot", f"no lot {lot_id!r}")
            lot = found
        if lot["statut_occupation"] != "VACANT":
            raise SandboxHTTPError(
                409, "lot_not_vacant",
                f"lot {lot['code_ug']} is {lot['statut_occupation']}: a new lease needs a VACANT lot",
            )
        start = start_date or _today()
        now_iso = utc_now_iso()
        rng = self._rng
        count = holders or (2 if rng.random() < 0.42 else 1)
        tenants_table = self.tables["tenants"]
        tenants: list[dict[str, Any]] = []
        first_female = rng.random() < 0.56
        for h in range(count):
            code = f"LOC-{len(tenants_table.records) + 1:07d}"
            if h == 0:
                tenant = self._people.tenant(code, start, female=first_female, timestamp=now_iso)
            else:
                shared = tenants[0]["nom"].title() if rng.random() < 0.6 else None
                tenant = self._people.tenant(
                    code, start, female=not first_female, last_name=shared, timestamp=now_iso
                )
            tenants_table.add(tenant)
            tenants.append(tenant)
        surface = float(lot["surface_habitable"])
        rent = surface * RENT_PER_M2[lot["financement"]] * rng.uniform(0.98, 1.1)
        charges = surface * rng.uniform(1.5, 2.6)
        leases = self.tables["leases"]
        lease = {
            "code_bail": f"BAIL-{start.year}-{len(leases.records) + 1:06d}",
            "code_ug": lot["code_ug"],
            "titulaires": [t["code_tiers"] for t in tenants],
            "date_entree": start.isoformat(),
            "date_preavis": None,
            "date_sortie": None,
            "statut": "EN_COURS",
            "loyer_principal": money(rent),
            "provision_charges": money(charges),
            "depot_garantie": money(rent),
            "assurance_statut": None,
            "assurance_date_fin": None,
            "assurance_date_controle": None,
            "date_maj": now_iso,
        }
        leases.add(lease)
        lot.update(statut_occupation="OCCUPE", code_bail_en_cours=lease["code_bail"])
        self._touch("lots", lot, now_iso)
        return self._emit(
            "lease.signed", {"lease": lease, "lot": lot, "tenants": tenants}, now_iso
        )

    def _update_tenant(self, change: TenantUpdatedIn) -> dict[str, Any]:
        tenant = self.tables["tenants"].get(change.tenant_id)
        if tenant is None:
            raise SandboxHTTPError(404, "unknown_tenant", f"no tenant {change.tenant_id!r}")
        wanted: dict[str, Any] = {}
        if change.phone is not None:
            wanted["telephone"] = change.phone
        if change.email is not None:
            wanted["email"] = change.email
        if change.last_name is not None:
            wanted["nom"] = change.last_name.upper()
        if not wanted:
            wanted["telephone"] = self._people.phone()
        changed = [name for name, value in wanted.items() if tenant[name] != value]
        if not changed:
            raise SandboxHTTPError(
                409, "no_change", f"tenant {change.tenant_id} already has these values"
            )
        now_iso = utc_now_iso()
        tenant.update({name: wanted[name] for name in changed})
        self._touch("tenants", tenant, now_iso)
        return self._emit("tenant.updated", {"tenant": tenant, "changed_fields": changed}, now_iso)

    def random_changes(self, count: int) -> list[dict[str, Any]]:
        """Script ``count`` plausible changes drawn from the seed (same seed, same changes).

        The mix: notices on current leases, departures (leases under notice first), new leases
        on vacant lots, and tenants changing phone number or e-mail.
        """
        kinds = ("lease.notice_given", "lease.terminated", "lease.signed", "tenant.updated")
        events = []
        with self.lock:
            for _ in range(count):
                kind = self._rng.choices(kinds, (35, 20, 20, 25))[0]
                event = self._random_change(kind)
                if event is None:  # no candidate for this kind: a tenant update always works
                    event = self._random_change("tenant.updated")
                if event is not None:
                    events.append(event)
        return events

    def _random_change(self, kind: str) -> dict[str, Any] | None:
        rng = self._rng
        leases = self.tables["leases"].records
        if kind == "lease.notice_given":
            active = [lease for lease in leases if lease["statut"] == "EN_COURS"]
            return self._give_notice(rng.choice(active)["code_bail"], None, None) if active else None
        if kind == "lease.terminated":
            candidates = [lease for lease in leases if lease["statut"] == "PREAVIS"] or [
                lease for lease in leases if lease["statut"] == "EN_COURS"
            ]
            return self._terminate(rng.choice(candidates)["code_bail"], None) if candidates else None
        if kind == "lease.signed":
            if not any(lot["statut_occupation"] == "VACANT" for lot in self.tables["lots"].records):
                return None
            return self._sign(None, None, None)
        tenants = [t for t in self.tables["tenants"].records if t["statut"] == "ACTIF"]
        if not tenants:
            return None
        tenant = rng.choice(tenants)
        if rng.random() < 0.7 or not tenant["email"]:
            update = TenantUpdatedIn(type="tenant.updated", tenant_id=tenant["code_tiers"])
        else:
            email = self._people.email(tenant["prenom"], tenant["nom"].title())
            update = TenantUpdatedIn(
                type="tenant.updated", tenant_id=tenant["code_tiers"], email=email
            )
        return self._update_tenant(update)

    # -- the hub's writes --------------------------------------------------------------------

    def add_billing_line(self, body: BillingLineIn) -> dict[str, Any]:
        """Record a billing line on a lease (one application of the write).

        Raises:
            SandboxHTTPError: 404 when the lease is unknown.

        """
        with self.lock:
            lease = self._lease(body.lease_id)
            year = body.period[:4]
            seq = self._billing_seq.get(year, 0) + 1
            self._billing_seq[year] = seq
            line = {
                "id": f"FAC-{year}-{seq:06d}",
                "lease_id": lease["code_bail"],
                "lot_id": lease["code_ug"],
                "tenant_ids": list(lease["titulaires"]),
                "label": body.label,
                "amount_eur": f"{body.amount_eur.quantize(Decimal('0.01')):f}",
                "intervention_ref": body.intervention_ref,
                "period": body.period,
                "status": "pending",
                "created_at": utc_now_iso(),
            }
            self.billing_lines.append(line)
            return dict(line, tenant_ids=list(line["tenant_ids"]))

    def query_billing_lines(
        self, lease_id: str | None, intervention_ref: str | None
    ) -> dict[str, Any]:
        """Return billing lines, filtered by lease and/or intervention reference."""
        with self.lock:
            items = [
                copy.deepcopy(line)
                for line in self.billing_lines
                if (lease_id is None or line["lease_id"] == lease_id)
                and (intervention_ref is None or line["intervention_ref"] == intervention_ref)
            ]
        return {"items": items, "total": len(items)}

    def set_insurance(self, lease_id: str, body: InsuranceIn) -> dict[str, Any]:
        """Set a lease's home-insurance status (one application of the write).

        Raises:
            SandboxHTTPError: 404 when the lease is unknown.

        """
        with self.lock:
            lease = self._lease(lease_id)
            now_iso = utc_now_iso()
            lease.update(
                assurance_statut=body.status,
                assurance_date_fin=body.valid_to.isoformat() if body.valid_to else None,
                assurance_date_controle=_iso(body.checked_at),
            )
            self._touch("leases", lease, now_iso)
            self.insurance_updates.append(
                {
                    "lease_id": lease_id,
                    "status": body.status,
                    "valid_to": lease["assurance_date_fin"],
                    "checked_at": lease["assurance_date_controle"],
                    "received_at": now_iso,
                }
            )
            return copy.deepcopy(lease)

    def snapshot(self) -> dict[str, Any]:
        """Return ``GET /sandbox/state``: counts, changes, billing, insurance, ledger and faults."""
        with self.lock:
            leases = self.tables["leases"].records
            refs = Counter(line["intervention_ref"] for line in self.billing_lines)
            return {
                "counts": {entity: len(t.records) for entity, t in self.tables.items()},
                "leases_by_status": dict(Counter(lease["statut"] for lease in leases)),
                "lots_by_occupancy": dict(
                    Counter(lot["statut_occupation"] for lot in self.tables["lots"].records)
                ),
                "changes": {
                    "count": len(self.changes),
                    "by_type": dict(Counter(c["type"] for c in self.changes)),
                    "items": [_change_summary(c) for c in self.changes],
                },
                "billing_lines": copy.deepcopy(self.billing_lines),
                "billing_duplicate_intervention_refs": sorted(r for r, n in refs.items() if n > 1),
                "insurance": {
                    "by_status": dict(
                        Counter(lease["assurance_statut"] or "unknown" for lease in leases)
                    ),
                    "updates": copy.deepcopy(self.insurance_updates),
                },
                **super().snapshot(),
            }


def _change_summary(change: dict[str, Any]) -> dict[str, Any]:
    data = change["data"]
    summary = {k: change[k] for k in ("change_id", "type", "occurred_at")}
    if "lease" in data:
        summary["lease_id"] = data["lease"]["code_bail"]
        summary["lot_id"] = data["lease"]["code_ug"]
    if "tenant" in data:
        summary["tenant_id"] = data["tenant"]["code_tiers"]
    return summary


def create_app(
    *,
    seed: int = 42,
    lots: int = 2000,
    hub_url: str | None = None,
    webhook_secret: str = "pivot-dev-secret",
    faults: FaultSettings | None = None,
    honour_idempotency_keys: bool = True,
) -> FastAPI:
    """Build the ERP sandbox app; its state is ``app.state.sandbox`` (:class:`ErpState`).

    Args:
        seed: Seed of the data, of random changes and of faults: same seed, same data.
        lots: Number of lots of the estate (2,000 for the demo; 30,000 make ~100,000 records).
        hub_url: Base URL of the hub (unused: the ERP is polled).
        webhook_secret: HMAC key shared with the hub (unused: the ERP is polled).
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery of a write again.

    """
    state = ErpState(
        seed=seed,
        lots=lots,
        hub_url=hub_url,
        webhook_secret=webhook_secret,
        faults=faults,
        honour_idempotency_keys=honour_idempotency_keys,
    )
    app = FastAPI(
        title="ERP sandbox",
        version="1.0",
        description="A stateful stand-in for the landlord's ERP (tenants, leases, billing).",
    )
    add_sandbox_routes(app, state)

    @app.get("/api/v1/export/{entity}", tags=["api"])
    def export(
        entity: str,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
    ) -> Response:
        state.injector.maybe_fail(read=True)
        return Response(state.export_page(entity, cursor, limit), media_type="application/json")

    @app.get("/api/v1/changes", tags=["api"])
    def changes(
        since: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
    ) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(state.changes_page(since, limit))

    @app.post("/api/v1/billing-lines", status_code=201, tags=["api"])
    def post_billing_line(
        body: BillingLineIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda _key: state.add_billing_line(body),
            method="POST",
            path="/api/v1/billing-lines",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied, 201)

    @app.get("/api/v1/billing-lines", tags=["api"])
    def get_billing_lines(
        lease_id: str | None = None, intervention_ref: str | None = None
    ) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(state.query_billing_lines(lease_id, intervention_ref))

    @app.put("/api/v1/leases/{lease_id}/insurance", tags=["api"])
    def put_insurance(
        lease_id: str, body: InsuranceIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda _key: state.set_insurance(lease_id, body),
            method="PUT",
            path=f"/api/v1/leases/{lease_id}/insurance",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied)

    @app.get("/api/v1/{entity}/{record_id}", tags=["api"])
    def get_record(entity: str, record_id: str) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(state.record(entity, record_id))

    @app.post("/sandbox/changes", status_code=201, tags=["sandbox"])
    def post_change(change: Annotated[ChangeIn, Body()]) -> JSONResponse:
        return JSONResponse(state.apply_change(change), status_code=201)

    @app.post("/sandbox/changes/random", status_code=201, tags=["sandbox"])
    def post_random_changes(request: RandomChangesIn) -> JSONResponse:
        return JSONResponse({"changes": state.random_changes(request.count)}, status_code=201)

    return app
