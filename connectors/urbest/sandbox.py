"""Sandbox of the Urbest-like maintenance tool: work orders (interventions) and contractors.

The tool speaks its own language: interventions ``URB-<year>-000001`` numbered in sequence,
priorities ``P1`` (urgent, 24 h), ``P2`` (72 h) and ``P3`` (15 days), contractors identified by
SIRET and chosen by trade. The hub creates interventions and moves them through their
lifecycle; every write needs an ``Idempotency-Key`` and is applied once.

Endpoints (faults apply to ``/api/*`` only):

* ``POST /api/v1/interventions`` — create (201; the same key again: 200, same JSON);
* ``GET /api/v1/interventions`` — list, filters ``external_ref``, ``status``, ``updated_since``;
* ``GET /api/v1/interventions/{id}`` — one intervention;
* ``POST /api/v1/interventions/{id}/status`` — lifecycle
  ``created → scheduled → started → completed``, any non-final state ``→ cancelled`` (409
  otherwise);
* ``GET /api/v1/contractors`` — the contractor directory;
* ``POST /sandbox/advance`` — play the contractors: move interventions along their lifecycle;
* ``GET /sandbox/state``, ``GET|PUT /sandbox/faults``, ``GET /healthz``.
"""

from __future__ import annotations

import copy
import random
import time
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from faker import Faker
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from stdnum import luhn

from connectors.sdk.sandbox import (
    FaultSettings,
    IdempotencyKeyHeader,
    SandboxHTTPError,
    SandboxState,
    add_sandbox_routes,
    utc_now_iso,
    write_response,
)

Priority = Literal["P1", "P2", "P3"]
Status = Literal["created", "scheduled", "started", "completed", "cancelled"]

#: Time allowed to a contractor per priority (P1 = urgent, within 24 h).
PRIORITY_SLA: dict[str, timedelta] = {
    "P1": timedelta(hours=24),
    "P2": timedelta(hours=72),
    "P3": timedelta(days=15),
}

#: Allowed lifecycle transitions.
TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"scheduled", "cancelled"}),
    "scheduled": frozenset({"started", "cancelled"}),
    "started": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
_PROGRESSION: tuple[str, ...] = ("created", "scheduled", "started", "completed")

#: Contractor directory: (trade, request categories served, name template).
_CONTRACTOR_TEMPLATES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("plombier", ("plumbing",), "Plomberie {nom}"),
    ("plombier", ("plumbing",), "{nom} & Fils Plomberie Sanitaire"),
    ("chauffagiste", ("heating_hot_water",), "{nom} Chauffage Services"),
    ("chauffagiste", ("heating_hot_water",), "Thermique {nom} SAS"),
    ("électricien", ("electricity",), "Électricité Générale {nom}"),
    ("électricien", ("electricity",), "{nom} Élec SARL"),
    ("ascensoriste", ("lift",), "Ascenseurs {nom}"),
    ("ascensoriste", ("lift",), "{nom} Élévation"),
    ("serrurier", ("access_security",), "Serrurerie {nom}"),
    ("contrôle d'accès", ("access_security",), "{nom} Sécurité Accès"),
    ("dératiseur", ("pests",), "{nom} Hygiène 3D"),
    ("entreprise de nettoyage", ("common_areas",), "Nettoyage {nom} Propreté"),
    ("ventilation", ("damp_ventilation",), "{nom} Ventilation & Assainissement"),
    ("peintre", ("damp_ventilation",), "Peinture et Rénovation {nom}"),
    ("multiservices", ("common_areas", "*"), "Multiservices {nom}"),
)

#: Typical cost range (EUR) of a job per category, for contractors completing work.
_COST_RANGES: dict[str, tuple[int, int]] = {
    "plumbing": (85, 480),
    "heating_hot_water": (120, 950),
    "electricity": (90, 620),
    "lift": (250, 2400),
    "access_security": (70, 540),
    "common_areas": (60, 380),
    "pests": (90, 650),
    "damp_ventilation": (110, 1200),
}
#: Categories where part of the jobs are recharged to the tenant (blocked WC, lost key...).
_RECHARGEABLE_SHARE: dict[str, float] = {"plumbing": 0.2, "access_security": 0.25}
#: Contractors' home cities with the first digit of their landline (French numbering zones).
_CITIES: tuple[tuple[str, str], ...] = (
    ("Lyon", "4"), ("Villeurbanne", "4"), ("Vénissieux", "4"), ("Vaulx-en-Velin", "4"),
    ("Grenoble", "4"), ("Marseille", "4"), ("Saint-Denis", "1"), ("Montreuil", "1"),
    ("Roubaix", "3"), ("Tourcoing", "3"),
)


class Location(BaseModel):
    """Where the work is: the hub's lot and building references and/or a postal address."""

    model_config = ConfigDict(extra="forbid")

    lot_ref: str | None = Field(default=None, max_length=128)
    building_ref: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=300)


class InterventionIn(BaseModel):
    """Body of ``POST /api/v1/interventions``."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str = Field(min_length=1, max_length=64)
    priority: Priority
    location: Location = Field(default_factory=Location)
    external_ref: str = Field(min_length=1, max_length=128)
    requested_at: datetime | None = None
    kind: Literal["repair", "inspection"] = "repair"


class StatusIn(BaseModel):
    """Body of ``POST /api/v1/interventions/{id}/status``."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["scheduled", "started", "completed", "cancelled"]
    scheduled_for: datetime | None = None
    cost_eur: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    rechargeable_to_tenant: bool | None = None


class AdvanceRequest(BaseModel):
    """Body of ``POST /sandbox/advance``: which interventions, and up to which status."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] | None = None
    until: Literal["scheduled", "started", "completed"] = "completed"


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc_now_iso(aware.timestamp())


def _siret(rng: random.Random) -> str:
    siren8 = ""
    while not siren8 or siren8.startswith("356000"):  # La Poste SIRETs follow another rule
        siren8 = f"{rng.randint(3, 9)}{rng.randrange(10**7):07d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    nic4 = f"{rng.randint(1, 9):03d}{rng.randint(0, 9)}"
    return siren + nic4 + luhn.calc_check_digit(siren + nic4)


def generate_contractors(seed: int) -> list[dict[str, Any]]:
    """Generate the contractor directory (15 French companies with valid SIRETs) for ``seed``.

    Args:
        seed: Seed of the generation.

    Returns:
        Contractors as JSON-able dicts: ``id``, ``name``, ``trade``, ``categories``, ``siret``,
        ``city``, ``phone``.

    """
    rng = random.Random(f"urbest-contractors:{seed}")
    fake = Faker("fr_FR")
    fake.seed_instance(rng.randrange(2**32))
    contractors = []
    used: set[str] = set()
    for number, (trade, categories, template) in enumerate(_CONTRACTOR_TEMPLATES, start=1):
        family = fake.last_name()
        while family in used:
            family = fake.last_name()
        used.add(family)
        city, zone = rng.choice(_CITIES)
        contractors.append(
            {
                "id": f"CTR-{number:03d}",
                "name": template.format(nom=family),
                "trade": trade,
                "categories": list(categories),
                "siret": _siret(rng),
                "city": city,
                "phone": f"+33{zone}{rng.randrange(10**8):08d}",
            }
        )
    return contractors


class UrbestState(SandboxState):
    """State of the Urbest sandbox: contractors and interventions.

    Args:
        seed: Seed of contractors, costs and faults.
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery again (no idempotency).

    """

    def __init__(
        self,
        *,
        seed: int = 42,
        faults: FaultSettings | None = None,
        honour_idempotency_keys: bool = True,
    ) -> None:
        super().__init__(
            seed=seed, faults=faults, honour_idempotency_keys=honour_idempotency_keys
        )
        self.contractors = generate_contractors(seed)
        self.interventions: dict[str, dict[str, Any]] = {}
        self._seq = 0

    def contractor_for(self, category: str, external_ref: str) -> dict[str, Any]:
        """Pick the contractor of a job: by trade, spread by a stable hash of ``external_ref``.

        The choice does not depend on the order requests arrive in, so concurrent runs with the
        same seed assign the same contractors.
        """
        matching = [c for c in self.contractors if category in c["categories"]]
        if not matching:
            matching = [c for c in self.contractors if "*" in c["categories"]]
        chosen = matching[zlib.crc32(external_ref.encode()) % len(matching)]
        return {k: chosen[k] for k in ("id", "name", "trade", "siret")}

    def create(self, body: InterventionIn) -> dict[str, Any]:
        """Create an intervention (one application of the write) and return its JSON."""
        with self.lock:
            self._seq += 1
            now = time.time()
            now_iso = utc_now_iso(now)
            year = datetime.fromtimestamp(now, tz=UTC).year
            intervention_id = f"URB-{year}-{self._seq:06d}"
            intervention = {
                "id": intervention_id,
                "external_ref": body.external_ref,
                "kind": body.kind,
                "title": body.title,
                "description": body.description,
                "category": body.category,
                "priority": body.priority,
                "location": body.location.model_dump(),
                "status": "created",
                "contractor": self.contractor_for(body.category, body.external_ref),
                "requested_at": _iso(body.requested_at) if body.requested_at else None,
                "created_at": now_iso,
                "created_ts": now,
                "updated_at": now_iso,
                "updated_ts": now,
                "due_by": utc_now_iso(now + PRIORITY_SLA[body.priority].total_seconds()),
                "scheduled_for": None,
                "started_at": None,
                "completed_at": None,
                "cancelled_at": None,
                "cost_eur": None,
                "rechargeable_to_tenant": False,
                "history": [{"status": "created", "at": now_iso}],
            }
            self.interventions[intervention_id] = intervention
            return copy.deepcopy(intervention)

    def get(self, intervention_id: str) -> dict[str, Any]:
        """Return a copy of an intervention.

        Raises:
            SandboxHTTPError: 404 when unknown.

        """
        with self.lock:
            return copy.deepcopy(self._get(intervention_id))

    def _get(self, intervention_id: str) -> dict[str, Any]:
        intervention = self.interventions.get(intervention_id)
        if intervention is None:
            raise SandboxHTTPError(
                404, "unknown_intervention", f"no intervention {intervention_id!r}"
            )
        return intervention

    def transition(self, intervention_id: str, body: StatusIn) -> dict[str, Any]:
        """Move an intervention to ``body.status`` (one application of the write).

        Raises:
            SandboxHTTPError: 404 when unknown, 409 when the lifecycle refuses the move.

        """
        with self.lock:
            intervention = self._get(intervention_id)
            current = intervention["status"]
            if body.status not in TRANSITIONS[current]:
                allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final status)"
                raise SandboxHTTPError(
                    409,
                    "invalid_transition",
                    f"intervention {intervention_id} cannot go from {current!r} to "
                    f"{body.status!r}; allowed from {current!r}: {allowed}",
                )
            now = time.time()
            now_iso = utc_now_iso(now)
            intervention["status"] = body.status
            if body.status == "scheduled":
                intervention["scheduled_for"] = (
                    _iso(body.scheduled_for) if body.scheduled_for else intervention["due_by"]
                )
            elif body.scheduled_for is not None:
                intervention["scheduled_for"] = _iso(body.scheduled_for)
            if body.status in ("started", "completed", "cancelled"):
                intervention[f"{body.status}_at"] = now_iso
            if body.cost_eur is not None:
                intervention["cost_eur"] = f"{body.cost_eur.quantize(Decimal('0.01')):f}"
            if body.rechargeable_to_tenant is not None:
                intervention["rechargeable_to_tenant"] = body.rechargeable_to_tenant
            intervention["updated_at"], intervention["updated_ts"] = now_iso, now
            intervention["history"].append({"status": body.status, "at": now_iso})
            return copy.deepcopy(intervention)

    def advance(self, ids: list[str] | None, until: str) -> list[dict[str, Any]]:
        """Play the contractors: move interventions step by step up to ``until``.

        Costs and recharges are drawn per intervention from the seed, so they do not depend on
        the order of calls. Cancelled and completed interventions are left alone.

        Args:
            ids: Interventions to move (all when None).
            until: Last status to reach: ``scheduled``, ``started`` or ``completed``.

        Returns:
            The interventions that moved, after the move.

        Raises:
            SandboxHTTPError: 404 when an id is unknown.

        """
        target = _PROGRESSION.index(until)
        moved = []
        with self.lock:
            chosen = [self._get(i) for i in ids] if ids is not None else list(
                self.interventions.values()
            )
            for intervention in chosen:
                if intervention["status"] not in _PROGRESSION:
                    continue
                step = _PROGRESSION.index(intervention["status"])
                if step >= target:
                    continue
                rng = random.Random(f"urbest-job:{self.seed}:{intervention['id']}")
                low, high = _COST_RANGES.get(intervention["category"], (80, 400))
                cost = Decimal(rng.randint(low * 100, high * 100)) / 100
                recharge = rng.random() < _RECHARGEABLE_SHARE.get(intervention["category"], 0.0)
                for status in _PROGRESSION[step + 1 : target + 1]:
                    self.transition(
                        intervention["id"],
                        StatusIn(
                            status=status,  # type: ignore[arg-type]
                            cost_eur=cost if status == "completed" else None,
                            rechargeable_to_tenant=recharge if status == "completed" else None,
                        ),
                    )
                moved.append(copy.deepcopy(intervention))
        return moved

    def query(
        self,
        *,
        external_ref: str | None = None,
        status: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Return interventions in creation order, filtered and paginated.

        Returns:
            ``{"items": [...], "total": n}`` where ``total`` counts all matches.

        """
        since = None
        if updated_since is not None:
            aware = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
            since = aware.timestamp()
        with self.lock:
            matches = [
                i
                for i in self.interventions.values()
                if (external_ref is None or i["external_ref"] == external_ref)
                and (status is None or i["status"] == status)
                and (since is None or i["updated_ts"] >= since)
            ]
            return {
                "items": copy.deepcopy(matches[offset : offset + limit]),
                "total": len(matches),
            }

    def snapshot(self) -> dict[str, Any]:
        """Return ``GET /sandbox/state``: interventions, contractors, ledger and faults."""
        with self.lock:
            return {
                "interventions": copy.deepcopy(list(self.interventions.values())),
                "contractors": copy.deepcopy(self.contractors),
                **super().snapshot(),
            }


def create_app(
    *,
    seed: int = 42,
    faults: FaultSettings | None = None,
    honour_idempotency_keys: bool = True,
) -> FastAPI:
    """Build the Urbest sandbox app; its state is ``app.state.sandbox`` (:class:`UrbestState`).

    Args:
        seed: Seed of contractors, job costs and faults.
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery of a write again.

    """
    state = UrbestState(
        seed=seed, faults=faults, honour_idempotency_keys=honour_idempotency_keys
    )
    app = FastAPI(
        title="Urbest sandbox",
        version="1.0",
        description="A stateful stand-in for the Urbest-like maintenance tool (work orders).",
    )
    add_sandbox_routes(app, state)

    @app.post("/api/v1/interventions", status_code=201, tags=["api"])
    def create_intervention(
        body: InterventionIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda _key: state.create(body),
            method="POST",
            path="/api/v1/interventions",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied, 201)

    @app.get("/api/v1/interventions", tags=["api"])
    def list_interventions(
        external_ref: str | None = None,
        status: Status | None = None,
        updated_since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        state.injector.maybe_fail(read=True)
        return state.query(
            external_ref=external_ref,
            status=status,
            updated_since=updated_since,
            limit=limit,
            offset=offset,
        )

    @app.get("/api/v1/interventions/{intervention_id}", tags=["api"])
    def get_intervention(intervention_id: str) -> dict[str, Any]:
        state.injector.maybe_fail(read=True)
        return state.get(intervention_id)

    @app.post("/api/v1/interventions/{intervention_id}/status", tags=["api"])
    def change_status(
        intervention_id: str, body: StatusIn, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        answer, applied = state.apply_write(
            idempotency_key,
            lambda _key: state.transition(intervention_id, body),
            method="POST",
            path=f"/api/v1/interventions/{intervention_id}/status",
            body=body.model_dump(mode="json"),
        )
        return write_response(answer, applied)

    @app.get("/api/v1/contractors", tags=["api"])
    def list_contractors() -> list[dict[str, Any]]:
        state.injector.maybe_fail(read=True)
        return copy.deepcopy(state.contractors)

    @app.post("/sandbox/advance", tags=["sandbox"])
    def advance(request: AdvanceRequest) -> dict[str, Any]:
        moved = state.advance(request.ids, request.until)
        return {"advanced": [i["id"] for i in moved], "interventions": moved}

    return app
