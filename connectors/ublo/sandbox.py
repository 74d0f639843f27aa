"""Sandbox of the Ublo-like tool: master of lots' technical data and of tenant requests.

A stateful FastAPI app playing the property-management SaaS on loopback. It starts with no
property: the hub pushes the lots it read from the ERP (upsert by the hub's reference), then the
tool enriches their technical data (a new DPE after renovation, a surface re-measured) and tells
the hub by signed webhook. Agents also log tenant requests in it (phone, agency desk, e-mail);
the hub creates the requests coming from the chatbot. Every write from the hub needs an
``Idempotency-Key`` and is applied once.

Its own ids: properties ``ubl_prop_<n>`` (n from 1, in creation order), requests
``UBL-REQ-000001``.

Endpoints (faults apply to ``/api/*`` only; reads only when ``faults_on_reads``):

* ``PUT /api/v2/properties/{external_ref}`` — upsert by the hub's reference; body
  :class:`PropertyIn` → 201 (created) or 200 (updated), the property;
* ``PATCH /api/v2/properties/{external_ref}/occupancy`` — body ``{"occupancy", "since"}``
  → 200, the property (404 ``unknown_property``);
* ``POST /api/v2/requests`` — body :class:`RequestIn` → 201, the request
  (404 ``unknown_property`` when ``property_external_ref`` is not a known property);
* ``GET /api/v2/properties?occupancy=&limit=&offset=`` and ``GET /api/v2/requests?status=
  &external_ref=&property_external_ref=&limit=&offset=`` — ``{"items": [...], "total": n}``;
* ``GET /api/v2/properties/{external_ref}``, ``GET /api/v2/requests/{id}``;
* ``POST /sandbox/properties/enrich`` ``{"count": n}`` — technical changes on n properties →
  ``property.updated`` webhooks;
* ``POST /sandbox/requests/simulate`` ``{"count": n}`` — requests logged by agents →
  ``request.created`` webhooks;
* ``POST /sandbox/requests/{id}/status`` ``{"status": "in_progress" | "resolved"}`` →
  ``request.updated`` webhook;
* ``GET /sandbox/state``, ``GET|PUT /sandbox/faults``, ``GET /healthz``.

A replayed write (same key, same body) answers 200 with the stored JSON and the header
``Idempotent-Replayed: true``. Errors are ``{"error": code, "detail": message}``.

The property JSON: ``id``, ``external_ref``, ``rpls``, ``address`` (``street``, ``postal_code``,
``city``, ``insee_code``, ``ban_key``), ``typology``, ``rooms``, ``surface_m2`` (decimal string
``"67.40"``), ``floor``, ``dpe`` (null or ``energy_class``, ``ges_class``, ``number``,
``issued_on``), ``occupancy`` (``occupied``/``notice``/``vacant``/``works``),
``occupancy_since``, ``building_ref``, ``residence_name``, ``construction_year``, ``version``
(+1 at every change), ``last_change_source`` (``hub``/``ublo``), ``created_at``, ``updated_at``.

The request JSON: ``id``, ``external_ref`` (the hub's reference; null for requests logged in
Ublo), ``property_id``, ``property_external_ref``, ``channel``, ``description``, ``category``,
``urgency``, ``tenant_ref``, ``status`` (``new``/``in_progress``/``resolved``), ``origin``
(``hub``/``ublo``), ``created_at``, ``updated_at``, ``history``.

Webhooks go to ``POST {hub_url}/v1/ingest/ublo``, signed with :func:`pivot.webhooks.sign`, as
``{"event", "event_id", "occurred_at", "data"}``:

* ``property.updated`` — ``data``: ``property``, ``changed_fields``, ``reason``
  (``dpe_renovation`` | ``surface_remeasured``);
* ``request.created`` — ``data``: ``request`` (only for requests logged in Ublo: requests the
  hub creates are not echoed back);
* ``request.updated`` — ``data``: ``request``, ``previous_status``.

Each is retried on connection errors, timeouts, 429 and 5xx with the same ``event_id`` and body;
events about one property or request are delivered in order.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import httpx
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from connectors.sdk.sandbox import (
    FaultSettings,
    IdempotencyKeyHeader,
    SandboxHTTPError,
    SandboxState,
    add_sandbox_routes,
    push_webhook,
    utc_now_iso,
    write_response,
)

#: Path of the hub's ingestion endpoint for this satellite.
INGEST_PATH = "/v1/ingest/ublo"
PROPERTY_UPDATED = "property.updated"
REQUEST_CREATED = "request.created"
REQUEST_UPDATED = "request.updated"
#: Statuses the tool retries (besides connection errors and timeouts).
MALFORMED_KINDS = ("missing_data", "missing_id", "wrong_type")

Occupancy = Literal["occupied", "notice", "vacant", "works"]
Typology = Literal["T1", "T2", "T3", "T4", "T5", "T6"]
DpeClass = Literal["A", "B", "C", "D", "E", "F", "G"]
Channel = Literal["chatbot", "web", "sms", "phone", "email", "whatsapp", "agency"]
Category = Literal[
    "plumbing", "heating_hot_water", "electricity", "lift", "access_security", "common_areas",
    "pests", "damp_ventilation", "neighbour_disturbance", "rent_charges", "administrative", "other",
]
Urgency = Literal["urgent", "high", "normal"]
RequestStatus = Literal["new", "in_progress", "resolved"]

#: Allowed request status changes (a resolved request may be reopened).
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_progress", "resolved"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"in_progress"}),
}
_DPE = "ABCDEFG"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: What agents log in Ublo when a tenant calls or comes to the agency, with their triage.
AGENT_NOTES: tuple[tuple[str, str, str], ...] = (
    ("Appel de la locataire : fuite sous l'évier de la cuisine, elle a coupé l'eau.",
     "plumbing", "high"),
    ("Locataire passé à l'agence : chasse d'eau qui coule en permanence.", "plumbing", "normal"),
    ("Appel : dégât des eaux, l'eau coule du plafond de la salle de bains depuis l'étage "
     "au-dessus.", "plumbing", "urgent"),
    ("Plus d'eau chaude depuis deux jours, chaudière en défaut (code F28).",
     "heating_hot_water", "high"),
    ("Radiateurs froids dans les chambres, le séjour chauffe à peine.",
     "heating_hot_water", "high"),
    ("Odeur de gaz signalée par téléphone dans la cage d'escalier, GRDF prévenu.",
     "heating_hot_water", "urgent"),
    ("Prise de la cuisine qui fait des étincelles, le locataire a coupé le disjoncteur.",
     "electricity", "urgent"),
    ("Éclairage du palier du 3e étage en panne depuis une semaine.", "electricity", "normal"),
    ("Ascenseur à l'arrêt, personne âgée au 7e qui ne peut plus sortir.", "lift", "high"),
    ("Ascenseur bloqué entre deux étages avec une personne à l'intérieur, ascensoriste appelé.",
     "lift", "urgent"),
    ("Porte du hall qui ne ferme plus, la ventouse ne tient pas.", "access_security", "high"),
    ("Badge d'accès au parking perdu, demande d'un nouveau badge.", "access_security", "normal"),
    ("Encombrants déposés dans le local vélos depuis 15 jours.", "common_areas", "normal"),
    ("Hall d'entrée pas nettoyé depuis deux semaines, sol collant.", "common_areas", "normal"),
    ("Présence de cafards dans la cuisine malgré le traitement du mois dernier.", "pests", "normal"),
    ("Punaises de lit dans la chambre des enfants, la locataire est épuisée.", "pests", "high"),
    ("Moisissures au plafond de la salle de bains, la VMC ne semble plus aspirer.",
     "damp_ventilation", "normal"),
    ("Forte humidité et traces noires dans la chambre, enfant asthmatique.",
     "damp_ventilation", "high"),
    ("Plainte pour bruit : musique forte tous les soirs après minuit au 2e.",
     "neighbour_disturbance", "normal"),
    ("Le locataire conteste la régularisation des charges de chauffage.", "rent_charges", "normal"),
    ("Demande d'échéancier pour un retard de loyer de deux mois.", "rent_charges", "normal"),
    ("Demande d'attestation de loyer pour la CAF.", "administrative", "normal"),
    ("Changement de situation familiale : ajout du conjoint sur le bail demandé.",
     "administrative", "normal"),
    ("Volet roulant de la chambre cassé, bloqué en position basse.", "other", "normal"),
)
_AGENT_CHANNELS = (("phone", 55), ("agency", 30), ("email", 15))


class AddressIn(BaseModel):
    """A property's postal address, with its INSEE commune code and BAN key when known."""

    model_config = ConfigDict(extra="forbid")

    street: str = Field(min_length=1, max_length=300)
    postal_code: str = Field(min_length=1, max_length=10)
    city: str = Field(min_length=1, max_length=100)
    insee_code: str | None = Field(default=None, max_length=5)
    ban_key: str | None = Field(default=None, max_length=40)


class DpeIn(BaseModel):
    """A DPE (energy performance diagnosis) of a property."""

    model_config = ConfigDict(extra="forbid")

    energy_class: DpeClass
    ges_class: DpeClass | None = None
    number: str | None = Field(default=None, max_length=20)
    issued_on: date | None = None


class PropertyIn(BaseModel):
    """Body of ``PUT /api/v2/properties/{external_ref}``: a lot as the hub knows it."""

    model_config = ConfigDict(extra="forbid")

    rpls: str | None = Field(default=None, max_length=20)
    address: AddressIn
    typology: Typology
    rooms: int | None = Field(default=None, ge=1, le=20)
    surface_m2: Decimal = Field(gt=0, le=1000, decimal_places=2)
    floor: int | None = Field(default=None, ge=-5, le=80)
    dpe: DpeIn | None = None
    occupancy: Occupancy
    occupancy_since: date | None = None
    building_ref: str | None = Field(default=None, max_length=128)
    residence_name: str | None = Field(default=None, max_length=200)
    construction_year: int | None = Field(default=None, ge=1800, le=2100)


class OccupancyIn(BaseModel):
    """Body of ``PATCH /api/v2/properties/{external_ref}/occupancy``."""

    model_config = ConfigDict(extra="forbid")

    occupancy: Occupancy
    since: date | None = None
    """Since when (today by default)."""


class RequestIn(BaseModel):
    """Body of ``POST /api/v2/requests``: a tenant request the hub received elsewhere."""

    model_config = ConfigDict(extra="forbid")

    external_ref: str = Field(min_length=1, max_length=128)
    property_external_ref: str | None = Field(default=None, max_length=128)
    channel: Channel
    description: str = Field(min_length=1, max_length=5000)
    category: Category | None = None
    urgency: Urgency | None = None
    tenant_ref: str | None = Field(default=None, max_length=128)


class CountIn(BaseModel):
    """Body of ``POST /sandbox/properties/enrich`` and ``POST /sandbox/requests/simulate``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=10_000)
    concurrency: int = Field(default=4, ge=1, le=64)


class StatusIn(BaseModel):
    """Body of ``POST /sandbox/requests/{id}/status``."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["in_progress", "resolved"]


class PushResult(BaseModel):
    """Answer of the control endpoints that push webhooks.

    Attributes:
        sent: Webhooks generated and pushed.
        accepted: Answered 2xx by the hub (after retries).
        failed: Not accepted (4xx, or retries exhausted).
        malformed: Sent as a malformed payload on purpose.
        event_ids: Event ids, in generation order.
        subjects: Property external refs or request ids the events are about, in order.

    """

    sent: int
    accepted: int
    failed: int
    malformed: int
    event_ids: list[str]
    subjects: list[str]


@dataclass(frozen=True)
class _Outgoing:
    index: int
    subject: str
    body: bytes


def _money2(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _today() -> date:
    return datetime.now(UTC).date()


class UbloState(SandboxState):
    """State of the Ublo sandbox: properties, requests and the webhooks sent to the hub.

    Args:
        seed: Seed of event ids, enrichments, simulated requests and faults.
        hub_url: Base URL of the hub; may be set later (``state.hub_url = ...``).
        webhook_secret: HMAC key shared with the hub.
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery of a write again.
        http_timeout_s: Timeout of each webhook delivery.
        max_retries: Retries of a webhook after the first attempt.
        retry_backoff_s: First backoff delay, doubled at each retry (jittered, capped at 2 s).

    """

    def __init__(
        self,
        *,
        seed: int = 42,
        hub_url: str | None = None,
        webhook_secret: str = "pivot-dev-secret",
        faults: FaultSettings | None = None,
        honour_idempotency_keys: bool = True,
        http_timeout_s: float = 10.0,
        max_retries: int = 5,
        retry_backoff_s: float = 0.2,
    ) -> None:
        super().__init__(
            seed=seed, faults=faults, honour_idempotency_keys=honour_idempotency_keys
        )
        self.hub_url = hub_url
        self.webhook_secret = webhook_secret
        self.http_timeout_s = http_timeout_s
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.properties: dict[str, dict[str, Any]] = {}
        self.requests: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self._property_seq = 0
        self._request_seq = 0
        self._rng = random.Random(f"ublo:{seed}")
        self._jitter = random.Random()

    # -- the hub's writes --------------------------------------------------------------------

    def upsert_property(self, external_ref: str, body: PropertyIn) -> tuple[dict[str, Any], bool]:
        """Create or replace a property (one application of the write).

        Returns:
            ``(property, created)``.

        """
        with self.lock:
            now_iso = utc_now_iso()
            fields = {
                "rpls": body.rpls,
                "address": body.address.model_dump(mode="json"),
                "typology": body.typology,
                "rooms": body.rooms,
                "surface_m2": _money2(body.surface_m2),
                "floor": body.floor,
                "dpe": body.dpe.model_dump(mode="json") if body.dpe else None,
                "occupancy": body.occupancy,
                "building_ref": body.building_ref,
                "residence_name": body.residence_name,
                "construction_year": body.construction_year,
            }
            found = self.properties.get(external_ref)
            if found is None:
                self._property_seq += 1
                found = self.properties[external_ref] = {
                    "id": f"ubl_prop_{self._property_seq}",
                    "external_ref": external_ref,
                    **fields,
                    "occupancy_since": (body.occupancy_since or _today()).isoformat(),
                    "version": 1,
                    "last_change_source": "hub",
                    "created_at": now_iso,
                    "updated_at": now_iso,
                }
                return copy.deepcopy(found), True
            if body.occupancy_since is not None:
                fields["occupancy_since"] = body.occupancy_since.isoformat()
            elif body.occupancy != found["occupancy"]:
                fields["occupancy_since"] = _today().isoformat()
            changed = {k: v for k, v in fields.items() if found[k] != v}
            if changed:
                found.update(changed)
                found.update(
                    version=found["version"] + 1, last_change_source="hub", updated_at=now_iso
                )
            return copy.deepcopy(found), False

    def _property(self, external_ref: str) -> dict[str, Any]:
        found = self.properties.get(external_ref)
        if found is None:
            raise SandboxHTTPError(404, "unknown_property", f"no property {external_ref!r}")
        return found

    def set_occupancy(self, external_ref: str, body: OccupancyIn) -> dict[str, Any]:
        """Set a property's occupancy (one application of the write).

        Raises:
            SandboxHTTPError: 404 when the property is unknown.

        """
        with self.lock:
            prop = self._property(external_ref)
            since = (body.since or _today()).isoformat()
            if (prop["occupancy"], prop["occupancy_since"]) != (body.occupancy, since):
                prop.update(
                    occupancy=body.occupancy,
                    occupancy_since=since,
                    version=prop["version"] + 1,
                    last_change_source="hub",
                    updated_at=utc_now_iso(),
                )
            return copy.deepcopy(prop)

    def _new_request(
        self,
        *,
        external_ref: str | None,
        property_external_ref: str | None,
        channel: str,
        description: str,
        category: str | None,
        urgency: str | None,
        tenant_ref: str | None,
        origin: str,
    ) -> dict[str, Any]:
        prop = self._property(property_external_ref) if property_external_ref else None
        self._request_seq += 1
        now_iso = utc_now_iso()
        request = {
            "id": f"UBL-REQ-{self._request_seq:06d}",
            "external_ref": external_ref,
            "property_id": prop["id"] if prop else None,
            "property_external_ref": property_external_ref,
            "channel": channel,
            "description": description,
            "category": category,
            "urgency": urgency,
            "tenant_ref": tenant_ref,
            "status": "new",
            "origin": origin,
            "created_at": now_iso,
            "updated_at": now_iso,
            "history": [{"status": "new", "at": now_iso}],
        }
        self.requests[request["id"]] = request
        return request

    def create_request(self, body: RequestIn) -> dict[str, Any]:
        """Create a request the hub sends (one application of the write; no webhook echo).

        Raises:
            SandboxHTTPError: 404 when ``property_external_ref`` is not a known property.

        """
        with self.lock:
            return copy.deepcopy(
                self._new_request(**body.model_dump(mode="json"), origin="hub")
            )

    # -- reads -------------------------------------------------------------------------------

    def get_property(self, external_ref: str) -> dict[str, Any]:
        """Return a copy of a property (404 ``unknown_property``)."""
        with self.lock:
            return copy.deepcopy(self._property(external_ref))

    def get_request(self, request_id: str) -> dict[str, Any]:
        """Return a copy of a request (404 ``unknown_request``)."""
        with self.lock:
            return copy.deepcopy(self._request(request_id))

    def _request(self, request_id: str) -> dict[str, Any]:
        found = self.requests.get(request_id)
        if found is None:
            raise SandboxHTTPError(404, "unknown_request", f"no request {request_id!r}")
        return found

    def list_properties(self, occupancy: str | None, limit: int, offset: int) -> dict[str, Any]:
        """Return properties in creation order, filtered by occupancy and paginated."""
        with self.lock:
            matches = [
                p for p in self.properties.values() if occupancy is None or p["occupancy"] == occupancy
            ]
            return {"items": copy.deepcopy(matches[offset : offset + limit]), "total": len(matches)}

    def list_requests(
        self,
        *,
        status: str | None,
        external_ref: str | None,
        property_external_ref: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """Return requests in creation order, filtered and paginated."""
        with self.lock:
            matches = [
                r
                for r in self.requests.values()
                if (status is None or r["status"] == status)
                and (external_ref is None or r["external_ref"] == external_ref)
                and (property_external_ref is None
                     or r["property_external_ref"] == property_external_ref)
            ]
            return {"items": copy.deepcopy(matches[offset : offset + limit]), "total": len(matches)}

    # -- changes made in Ublo, pushed as webhooks --------------------------------------------

    def _require_hub(self) -> None:
        if not self.hub_url:
            raise SandboxHTTPError(
                409, "no_hub_url", "no hub_url is configured: Ublo has nowhere to push"
            )

    def _event(self, event: str, subject: str, data: dict[str, Any]) -> _Outgoing:
        """Build one outgoing webhook (malformed if drawn so) and record it in :attr:`sent`."""
        event_id = f"evt_{self._rng.getrandbits(64):016x}"
        malformed = self._rng.choice(MALFORMED_KINDS) if self.injector.should_malform() else None
        payload: dict[str, Any] = {
            "event": event,
            "event_id": event_id,
            "occurred_at": utc_now_iso(),
            "data": copy.deepcopy(data),
        }
        entity = "property" if event == PROPERTY_UPDATED else "request"
        if malformed == "missing_data":
            del payload["data"]
        elif malformed == "missing_id":
            del payload["data"][entity]["id"]
        elif malformed == "wrong_type":
            if entity == "property":
                payload["data"]["property"]["surface_m2"] = {"value": data["property"]["surface_m2"]}
            else:
                payload["data"]["request"]["description"] = [data["request"]["description"]]
        self.sent.append(
            {
                "event_id": event_id,
                "event": event,
                "subject": subject,
                "malformed": malformed is not None,
                "malformed_kind": malformed,
                "sent_at": None,
                "status_code": None,
                "attempts": 0,
                "accepted": False,
                "ingestion_id": None,
                "error": None,
            }
        )
        body = json.dumps(payload, ensure_ascii=False).encode()
        return _Outgoing(index=len(self.sent) - 1, subject=subject, body=body)

    def _enrich_one(self, prop: dict[str, Any]) -> _Outgoing:
        rng = self._rng
        now_iso = utc_now_iso()
        dpe = prop["dpe"]
        if rng.random() < 0.65 and (dpe is None or dpe["energy_class"] != "A"):
            current = _DPE.index(dpe["energy_class"]) if dpe else rng.randint(3, 6)
            energy = _DPE[max(0, current - rng.randint(1, 2))]
            ges_now = _DPE.index(dpe["ges_class"]) if dpe and dpe["ges_class"] else current
            ges = _DPE[max(0, ges_now - rng.randint(0, 2))]
            department = (prop["address"].get("insee_code") or prop["rpls"] or "69")[:2]
            today = _today()
            tail = "".join(rng.choices("0123456789", k=7)) + rng.choice(_UPPER)
            prop["dpe"] = {
                "energy_class": energy,
                "ges_class": ges,
                "number": f"{today.year % 100:02d}{department}{rng.choice(_UPPER)}{tail}",
                "issued_on": today.isoformat(),
            }
            changed, reason = ["dpe"], "dpe_renovation"
        else:
            surface = Decimal(prop["surface_m2"])
            delta = Decimal(rng.randint(30, 250)) / 100 * rng.choice((-1, 1))
            prop["surface_m2"] = _money2(max(Decimal("9.00"), surface + delta))
            changed, reason = ["surface_m2"], "surface_remeasured"
        prop.update(version=prop["version"] + 1, last_change_source="ublo", updated_at=now_iso)
        data = {"property": prop, "changed_fields": changed, "reason": reason}
        return self._event(PROPERTY_UPDATED, prop["external_ref"], data)

    def enrich(self, count: int, concurrency: int = 4) -> PushResult:
        """Change the technical data of ``count`` properties and push ``property.updated``.

        Properties are drawn from the seed among all properties sorted by reference (so the
        draw does not depend on the order the hub pushed them in).

        Raises:
            SandboxHTTPError: 409 without a hub URL or without any property.

        """
        self._require_hub()
        with self.lock:
            if not self.properties:
                raise SandboxHTTPError(
                    409, "no_properties", "no property yet: the hub has not pushed any lot"
                )
            refs = sorted(self.properties)
            items = [self._enrich_one(self.properties[self._rng.choice(refs)]) for _ in range(count)]
        return self._push(items, concurrency)

    def simulate_requests(self, count: int, concurrency: int = 4) -> PushResult:
        """Log ``count`` requests as agents would (phone, agency, e-mail); push ``request.created``.

        Raises:
            SandboxHTTPError: 409 without a hub URL.

        """
        self._require_hub()
        channels = tuple(c for c, _ in _AGENT_CHANNELS)
        weights = tuple(w for _, w in _AGENT_CHANNELS)
        items = []
        with self.lock:
            refs = sorted(self.properties)
            for _ in range(count):
                text, category, urgency = self._rng.choice(AGENT_NOTES)
                request = self._new_request(
                    external_ref=None,
                    property_external_ref=self._rng.choice(refs) if refs else None,
                    channel=self._rng.choices(channels, weights)[0],
                    description=text,
                    category=category,
                    urgency=urgency,
                    tenant_ref=None,
                    origin="ublo",
                )
                items.append(self._event(REQUEST_CREATED, request["id"], {"request": request}))
        return self._push(items, concurrency)

    def change_request_status(self, request_id: str, status: str) -> PushResult:
        """Move a request to ``status`` and push ``request.updated``.

        Raises:
            SandboxHTTPError: 409 without a hub URL or for a refused transition; 404 when the
                request is unknown.

        """
        self._require_hub()
        with self.lock:
            request = self._request(request_id)
            previous = request["status"]
            if status not in REQUEST_TRANSITIONS[previous]:
                allowed = ", ".join(sorted(REQUEST_TRANSITIONS[previous]))
                raise SandboxHTTPError(
                    409, "invalid_transition",
                    f"request {request_id} cannot go from {previous!r} to {status!r}; "
                    f"allowed: {allowed}",
                )
            now_iso = utc_now_iso()
            request.update(status=status, updated_at=now_iso)
            request["history"].append({"status": status, "at": now_iso})
            data = {"request": request, "previous_status": previous}
            item = self._event(REQUEST_UPDATED, request_id, data)
        return self._push([item], 1)

    def _deliver(self, client: httpx.Client, item: _Outgoing) -> None:
        assert self.hub_url is not None
        delivery = push_webhook(
            client, self.hub_url.rstrip("/") + INGEST_PATH, item.body, self.webhook_secret,
            user_agent="ublo-sandbox/1.0", max_retries=self.max_retries,
            backoff_s=self.retry_backoff_s, jitter=self._jitter,
        )
        with self.lock:
            self.sent[item.index].update(delivery.as_record())

    def _push(self, items: list[_Outgoing], concurrency: int) -> PushResult:
        # Events about one subject go one after the other, in order; subjects in parallel.
        groups: dict[str, list[_Outgoing]] = {}
        for item in items:
            groups.setdefault(item.subject, []).append(item)
        workers = max(1, min(concurrency, len(groups)))
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)

        def deliver_group(group: list[_Outgoing]) -> None:
            for item in group:
                self._deliver(client, item)

        with (
            httpx.Client(timeout=self.http_timeout_s, limits=limits) as client,
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ublo-push") as pool,
        ):
            list(pool.map(deliver_group, groups.values()))
        with self.lock:
            records = [self.sent[item.index] for item in items]
            accepted = sum(1 for r in records if r["accepted"])
            return PushResult(
                sent=len(records),
                accepted=accepted,
                failed=len(records) - accepted,
                malformed=sum(1 for r in records if r["malformed"]),
                event_ids=[r["event_id"] for r in records],
                subjects=[r["subject"] for r in records],
            )

    def snapshot(self) -> dict[str, Any]:
        """Return ``GET /sandbox/state``: properties, requests, sent webhooks, ledger, faults."""
        with self.lock:
            refs = Counter(r["external_ref"] for r in self.requests.values() if r["external_ref"])
            return {
                "counts": {"properties": len(self.properties), "requests": len(self.requests)},
                "properties_by_occupancy": dict(
                    Counter(p["occupancy"] for p in self.properties.values())
                ),
                "properties": copy.deepcopy(list(self.properties.values())),
                "requests": copy.deepcopy(list(self.requests.values())),
                "requests_duplicate_external_refs": sorted(r for r, n in refs.items() if n > 1),
                "sent": copy.deepcopy(self.sent),
                "webhooks": {
                    "sent": len(self.sent),
                    "accepted": sum(1 for s in self.sent if s["accepted"]),
                    "malformed": sum(1 for s in self.sent if s["malformed"]),
                    "by_event": dict(Counter(s["event"] for s in self.sent)),
                },
                **super().snapshot(),
            }


def create_app(
    *,
    seed: int = 42,
    hub_url: str | None = None,
    webhook_secret: str = "pivot-dev-secret",
    faults: FaultSettings | None = None,
    honour_idempotency_keys: bool = True,
    retry_backoff_s: float = 0.2,
) -> FastAPI:
    """Build the Ublo sandbox app; its state is ``app.state.sandbox`` (:class:`UbloState`).

    Args:
        seed: Seed of event ids, enrichments, simulated requests and faults.
        hub_url: Base URL of the hub webhooks are pushed to (``/v1/ingest/ublo``).
        webhook_secret: HMAC-SHA256 key shared with the hub.
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery of a write again.
        retry_backoff_s: First backoff of webhook retries (tests pass a tiny one).

    """
    state = UbloState(
        seed=seed,
        hub_url=hub_url,
        webhook_secret=webhook_secret,
        faults=faults,
        honour_idempotency_keys=honour_idempotency_keys,
        retry_backoff_s=retry_backoff_s,
    )
    app = FastAPI(
        title="Ublo sandbox",
        version="2.0",
        description="A stateful stand-in for the Ublo-like tool (lots' technical data, requests).",
    )
    add_sandbox_routes(app, state)

    @app.put("/api/v2/properties/{external_ref}", tags=["api"])
    def put_property(
        external_ref: str, body: PropertyIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        (answer, created), applied = state.apply_write(
            idempotency_key,
            lambda _key: state.upsert_property(external_ref, body),
            method="PUT",
            path=f"/api/v2/properties/{external_ref}",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied, 201 if created else 200)

    @app.patch("/api/v2/properties/{external_ref}/occupancy", tags=["api"])
    def patch_occupancy(
        external_ref: str, body: OccupancyIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda _key: state.set_occupancy(external_ref, body),
            method="PATCH",
            path=f"/api/v2/properties/{external_ref}/occupancy",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied)

    @app.post("/api/v2/requests", status_code=201, tags=["api"])
    def post_request(body: RequestIn, idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda _key: state.create_request(body),
            method="POST",
            path="/api/v2/requests",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied, 201)

    @app.get("/api/v2/properties", tags=["api"])
    def list_properties(
        occupancy: Occupancy | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(state.list_properties(occupancy, limit, offset))

    @app.get("/api/v2/properties/{external_ref}", tags=["api"])
    def get_property(external_ref: str) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(state.get_property(external_ref))

    @app.get("/api/v2/requests", tags=["api"])
    def list_requests(
        status: RequestStatus | None = None,
        external_ref: str | None = None,
        property_external_ref: str | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(
            state.list_requests(
                status=status,
                external_ref=external_ref,
                property_external_ref=property_external_ref,
                limit=limit,
                offset=offset,
            )
        )

    @app.get("/api/v2/requests/{request_id}", tags=["api"])
    def get_request(request_id: str) -> JSONResponse:
        state.injector.maybe_fail(read=True)
        return JSONResponse(state.get_request(request_id))

    @app.post("/sandbox/properties/enrich", tags=["sandbox"])
    def enrich(body: CountIn) -> PushResult:
        return state.enrich(body.count, body.concurrency)

    @app.post("/sandbox/requests/simulate", tags=["sandbox"])
    def simulate_requests(body: CountIn) -> PushResult:
        return state.simulate_requests(body.count, body.concurrency)

    @app.post("/sandbox/requests/{request_id}/status", tags=["sandbox"])
    def change_status(request_id: str, body: StatusIn) -> PushResult:
        return state.change_request_status(request_id, body.status)

    return app
