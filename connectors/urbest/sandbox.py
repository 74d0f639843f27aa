"""Sandbox of the Urbest-like maintenance tool: work orders (interventions) and contractors.

The tool speaks its own language: interventions ``URB-<year>-000001`` numbered in sequence,
priorities ``P1`` (urgent, 24 h), ``P2`` (72 h) and ``P3`` (15 days), contractors identified by
SIRET and chosen by trade, locations given by the estate's codes (``LOT-0012-03-045``,
``BAT-0012-03``: the tool's estate is loaded from the ERP). The hub creates interventions; the
landlord's agents open some in the tool itself; contractors move them through their lifecycle.
Every API write needs an ``Idempotency-Key`` and is applied once.

Endpoints (faults apply to ``/api/*`` only):

* ``POST /api/v1/interventions`` — create (201; the same key again: 200, same JSON); ``kind``
  ``repair`` or ``inspection``; an optional ``due_by`` replaces the priority's deadline;
* ``GET /api/v1/interventions`` — list, filters ``external_ref``, ``status``, ``updated_since``;
* ``GET /api/v1/interventions/{id}`` — one intervention;
* ``POST /api/v1/interventions/{id}/status`` — lifecycle
  ``created → scheduled → started → completed``, any non-final state ``→ cancelled`` (409
  otherwise);
* ``GET /api/v1/contractors`` — the contractor directory;
* ``POST /sandbox/advance`` — play the contractors: body ``{"ids", "until", "steps",
  "cancel_share", "wait"}`` (all optional; ``{}`` completes every open intervention,
  ``{"steps": 1}`` moves each one step); costs and recharges are drawn from the seed;
* ``POST /sandbox/interventions/simulate`` — ``{"count": n}``: the landlord's agents open n
  work orders in the tool (lots and buildings of the estate, no ``external_ref``);
* ``GET /sandbox/state``, ``GET|PUT /sandbox/faults``, ``GET /healthz``.

Webhooks: with a ``hub_url``, every lifecycle change — by the contractors or through the status
API — and every intervention the agents open is pushed to ``POST {hub_url}/v1/ingest/urbest``,
signed with ``webhook_secret`` (:func:`connectors.sdk.sandbox.push_webhook`: retries on 429,
5xx and network errors with the same body)::

    {"event": "intervention.scheduled", "event_id": "evt_…", "occurred_at": "…Z",
     "intervention": {…the intervention JSON of the API, right after the change…}}

Events are ``intervention.created`` (agents' work orders only: those the hub created through
the API are not echoed back), ``intervention.scheduled`` (``scheduled_for`` set),
``intervention.started``, ``intervention.completed`` (``cost_eur`` a decimal string in euros,
``rechargeable_to_tenant``, ``completed_at``) and ``intervention.cancelled``. The events of one
intervention are delivered in order, one at a time (a few sender threads, one per shard of
intervention ids). ``malformed_rate`` replaces a share of them by broken payloads. Without a
``hub_url`` nothing is pushed. Records of what was sent are in ``GET /sandbox/state``
(``webhooks``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import queue
import random
import re
import threading
import time
import unicodedata
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import httpx
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
    push_webhook,
    utc_now_iso,
    write_response,
)

Priority = Literal["P1", "P2", "P3"]
Status = Literal["created", "scheduled", "started", "completed", "cancelled"]

#: Path of the hub's ingestion endpoint for this satellite.
INGEST_PATH = "/v1/ingest/urbest"
#: Kinds of malformed webhooks drawn when ``malformed_rate`` is set.
MALFORMED_KINDS = ("missing_intervention", "missing_intervention_id", "priority_not_a_code")

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
#: Cost range (EUR) of an inspection (visit, check, pre-exit advice visit).
_INSPECTION_COST = (45, 160)
_KEYS = r"(badge|cle|clef|bip|telecommande)s?"
_PANES = r"(vitre|carreau|vitrage)s?"
#: Share of jobs re-billed to the tenant (réparations locatives), by what the work order says
#: (its description, else its title, accents folded). The first matching rule wins; no match:
#: the landlord pays. Inspections are never re-billed.
_RECHARGE_RULES: tuple[tuple[re.Pattern[str], float], ...] = (
    # Leaks, water damage, boilers, water heaters, lifts: wear or the building, the landlord's.
    (re.compile(r"fuit|degat des eaux|infiltration|chaudiere|chauffe.eau|ballon|ascenseur"), 0.0),
    # Lost or broken keys and badges: the tenant's.
    (re.compile(rf"\b(perd\w*|perte|cass\w*)\b.{{0,40}}\b{_KEYS}\b"
                rf"|\b{_KEYS}\b.{{0,40}}\b(perd|perte|cass)"), 0.9),
    # A broken window pane: usually the tenant's.
    (re.compile(rf"\b{_PANES}\b.{{0,30}}\bcass|\bcass\w*\b.{{0,30}}\b{_PANES}"), 0.8),
    # A blocked drain or WC: the tenant's when they caused it (about half the time).
    (re.compile(r"\bbouch\w*\b(?! d.(aeration|extraction))|debouch|engorg|obstru"), 0.5),
)
#: Contractors' home cities with the first digit of their landline (French numbering zones).
_CITIES: tuple[tuple[str, str], ...] = (
    ("Lyon", "4"), ("Villeurbanne", "4"), ("Vénissieux", "4"), ("Vaulx-en-Velin", "4"),
    ("Grenoble", "4"), ("Marseille", "4"), ("Saint-Denis", "1"), ("Montreuil", "1"),
    ("Roubaix", "3"), ("Tourcoing", "3"),
)


@dataclass(frozen=True)
class AgentJob:
    """A work order the landlord's agents open in the tool (gardien's round, phone call...)."""

    title: str
    description: str
    category: str
    priority: Priority
    kind: Literal["repair", "inspection"]
    #: ``lot`` for work inside a dwelling, ``building`` for common areas and equipment.
    scope: Literal["lot", "building"]


#: What agents open in the tool, drawn by ``POST /sandbox/interventions/simulate``.
AGENT_JOBS: tuple[AgentJob, ...] = (
    AgentJob("Remplacement du groupe de sécurité du chauffe-eau",
             "Groupe de sécurité qui goutte en permanence, constaté lors de la visite du gardien.",
             "heating_hot_water", "P3", "repair", "lot"),
    AgentJob("Débouchage de l'évier de la cuisine",
             "Locataire venu à l'agence : évier bouché, l'eau ne s'écoule plus.",
             "plumbing", "P2", "repair", "lot"),
    AgentJob("Remplacement d'un badge d'accès perdu",
             "Badge perdu déclaré à l'accueil de l'agence, nouveau badge à programmer.",
             "access_security", "P3", "repair", "lot"),
    AgentJob("Remplacement de la vitre cassée de la chambre",
             "Vitre cassée signalée par téléphone, logement mis en sécurité par le locataire.",
             "other", "P2", "repair", "lot"),
    AgentJob("Recherche de fuite au plafond de la salle de bain",
             "Auréole au plafond de la salle de bain, infiltration probable depuis le logement "
             "du dessus.", "plumbing", "P2", "repair", "lot"),
    AgentJob("Entretien annuel de la chaudière individuelle",
             "Visite d'entretien annuelle obligatoire, rendez-vous à prendre avec le locataire.",
             "heating_hot_water", "P3", "inspection", "lot"),
    AgentJob("Changement du cylindre après perte des clés",
             "Le locataire a perdu ses clés et demande le remplacement du cylindre de la porte "
             "palière.", "access_security", "P2", "repair", "lot"),
    AgentJob("Ascenseur à l'arrêt au rez-de-chaussée",
             "Signalé par le gardien : ascenseur bloqué portes ouvertes, personne n'est bloqué dedans.",
             "lift", "P1", "repair", "building"),
    AgentJob("Éclairage de la cage d'escalier en panne",
             "Minuterie hors service du 2e au 5e étage, constatée lors de la ronde du gardien.",
             "common_areas", "P3", "repair", "building"),
    AgentJob("Dératisation du local poubelles",
             "Rats observés à plusieurs reprises dans le local poubelles et la cour.",
             "pests", "P2", "repair", "building"),
    AgentJob("Contrôle des bouches de VMC avant l'hiver",
             "Tournée annuelle de contrôle des extractions de VMC des logements.",
             "damp_ventilation", "P3", "inspection", "building"),
    AgentJob("Réparation du ferme-porte du hall",
             "Ferme-porte cassé, la porte du hall reste entrouverte.",
             "access_security", "P2", "repair", "building"),
)

_LOT_CODE = re.compile(r"^LOT-(\d{4})-(\d{2})-\d{3}$")


class Location(BaseModel):
    """Where the work is: the estate's lot and building codes and/or a postal address."""

    model_config = ConfigDict(extra="forbid")

    lot_ref: str | None = Field(default=None, max_length=128)
    building_ref: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=300)


class NewIntervention(BaseModel):
    """A work order to open: by the API (:class:`InterventionIn`) or by an agent in the tool."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str = Field(min_length=1, max_length=64)
    priority: Priority
    location: Location = Field(default_factory=Location)
    #: The caller's reference (the hub's request or lease id); None for an agent's work order.
    external_ref: str | None = Field(default=None, min_length=1, max_length=128)
    requested_at: datetime | None = None
    #: The caller's deadline (e.g. before a tenant's departure), instead of the priority's SLA.
    due_by: datetime | None = None
    kind: Literal["repair", "inspection"] = "repair"


class InterventionIn(NewIntervention):
    """Body of ``POST /api/v1/interventions``."""

    external_ref: str = Field(min_length=1, max_length=128)


class StatusIn(BaseModel):
    """Body of ``POST /api/v1/interventions/{id}/status``."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["scheduled", "started", "completed", "cancelled"]
    scheduled_for: datetime | None = None
    cost_eur: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    rechargeable_to_tenant: bool | None = None


class AdvanceRequest(BaseModel):
    """Body of ``POST /sandbox/advance``: which interventions, how far, and how."""

    model_config = ConfigDict(extra="forbid")

    #: Interventions to move (all when absent).
    ids: list[str] | None = None
    #: Last status to reach.
    until: Literal["scheduled", "started", "completed"] = "completed"
    #: Move each intervention at most this many steps (all the way to ``until`` when absent).
    steps: int | None = Field(default=None, ge=1, le=3)
    #: Share of the open interventions the contractors cancel instead (drawn per intervention).
    cancel_share: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Answer once the webhooks of these moves are delivered (or given up).
    wait: bool = True


class SimulateInterventionsRequest(BaseModel):
    """Body of ``POST /sandbox/interventions/simulate``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=10_000)
    #: Answer once the webhooks are delivered (or given up).
    wait: bool = True


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc_now_iso(aware.timestamp())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def recharge_share(intervention: dict[str, Any]) -> float:
    """Share of jobs like this one that are re-billed to the tenant (see ``_RECHARGE_RULES``)."""
    if intervention.get("kind") == "inspection":
        return 0.0
    text = _fold(intervention.get("description") or intervention.get("title") or "")
    return next((share for pattern, share in _RECHARGE_RULES if pattern.search(text)), 0.0)


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


def generate_lots(seed: int, count: int = 60) -> list[str]:
    """Lot codes of the tool's estate (the ERP's format ``LOT-0012-03-045``) for ``seed``.

    A stack that runs the ERP sandbox passes its codes instead (``lots=`` of :func:`create_app`).
    """
    rng = random.Random(f"urbest-estate:{seed}")
    lots: list[str] = []
    residence = 0
    while len(lots) < count:
        residence += 1
        for building in range(1, rng.randint(1, 3) + 1):
            lots += [f"LOT-{residence:04d}-{building:02d}-{k:03d}" for k in range(1, rng.randint(4, 12) + 1)]
    return lots[:count]


def building_of(lot_ref: str) -> str | None:
    """The building code of an estate lot code (``LOT-0012-03-045`` → ``BAT-0012-03``)."""
    match = _LOT_CODE.fullmatch(lot_ref)
    return f"BAT-{match[1]}-{match[2]}" if match else None


@dataclass
class _Push:
    """A webhook waiting in its shard's queue."""

    index: int
    body: bytes
    done: threading.Event = field(default_factory=threading.Event)


class UrbestState(SandboxState):
    """State of the Urbest sandbox: contractors, interventions and the webhooks they caused.

    Args:
        seed: Seed of contractors, costs, agents' work orders and faults.
        hub_url: Base URL of the hub webhooks are pushed to; None pushes nothing (may be set
            later: ``state.hub_url = ...``).
        webhook_secret: HMAC key shared with the hub.
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery again (no idempotency).
        lots: Lot codes of the estate the agents' work orders are drawn on (default:
            :func:`generate_lots`).
        http_timeout_s: Timeout of each webhook delivery.
        max_retries: Retries of a webhook after the first attempt.
        retry_backoff_s: First backoff delay, doubled at each retry (jittered, capped at 2 s).
        push_shards: Sender threads; the events of one intervention always go through the same
            one, in order.

    """

    def __init__(
        self,
        *,
        seed: int = 42,
        hub_url: str | None = None,
        webhook_secret: str = "pivot-dev-secret",
        faults: FaultSettings | None = None,
        honour_idempotency_keys: bool = True,
        lots: list[str] | None = None,
        http_timeout_s: float = 10.0,
        max_retries: int = 5,
        retry_backoff_s: float = 0.2,
        push_shards: int = 4,
    ) -> None:
        super().__init__(
            seed=seed, faults=faults, honour_idempotency_keys=honour_idempotency_keys
        )
        self.hub_url = hub_url
        self.webhook_secret = webhook_secret
        self.http_timeout_s = http_timeout_s
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.contractors = generate_contractors(seed)
        self.lots = list(lots) if lots is not None else generate_lots(seed)
        self.interventions: dict[str, dict[str, Any]] = {}
        self.webhooks: list[dict[str, Any]] = []
        self._seq = 0
        self._agents_rng = random.Random(f"urbest-agents:{seed}")
        self._webhook_rng = random.Random(f"urbest-webhooks:{seed}")
        self._jitter = random.Random()
        self._queues: list[queue.Queue[_Push | None]] = [queue.Queue() for _ in range(push_shards)]
        self._senders: list[threading.Thread] = []
        self._client: httpx.Client | None = None

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

    # -- writes --------------------------------------------------------------------------------

    def create(self, body: InterventionIn) -> dict[str, Any]:
        """Create an intervention for the API (one application of the write); no webhook."""
        with self.lock:
            return copy.deepcopy(self._create(body, origin="api"))

    def _create(self, body: NewIntervention, *, origin: str) -> dict[str, Any]:
        self._seq += 1
        now = time.time()
        now_iso = utc_now_iso(now)
        year = datetime.fromtimestamp(now, tz=UTC).year
        intervention_id = f"URB-{year}-{self._seq:06d}"
        due_by = (_iso(body.due_by) if body.due_by
                  else utc_now_iso(now + PRIORITY_SLA[body.priority].total_seconds()))
        intervention = {
            "id": intervention_id,
            "external_ref": body.external_ref,
            "origin": origin,
            "kind": body.kind,
            "title": body.title,
            "description": body.description,
            "category": body.category,
            "priority": body.priority,
            "location": body.location.model_dump(),
            "status": "created",
            "contractor": self.contractor_for(body.category, body.external_ref or intervention_id),
            "requested_at": _iso(body.requested_at) if body.requested_at else None,
            "created_at": now_iso,
            "created_ts": now,
            "updated_at": now_iso,
            "updated_ts": now,
            "due_by": due_by,
            "scheduled_for": None,
            "started_at": None,
            "completed_at": None,
            "cancelled_at": None,
            "cost_eur": None,
            "rechargeable_to_tenant": False,
            "history": [{"status": "created", "at": now_iso}],
        }
        self.interventions[intervention_id] = intervention
        return intervention

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

        The change is pushed to the hub as a webhook (when a hub URL is set).

        Raises:
            SandboxHTTPError: 404 when unknown, 409 when the lifecycle refuses the move.

        """
        with self.lock:
            return copy.deepcopy(self._transition(intervention_id, body)[0])

    def _transition(self, intervention_id: str, body: StatusIn) -> tuple[dict[str, Any], _Push | None]:
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
        return intervention, self._emit(intervention)

    def advance(
        self,
        ids: list[str] | None,
        until: str = "completed",
        *,
        steps: int | None = None,
        cancel_share: float = 0.0,
        wait: bool = True,
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Play the contractors: move interventions step by step towards ``until``.

        Costs, recharges and cancellations are drawn per intervention from the seed, so they do
        not depend on the order of calls. Cancelled and completed interventions are left alone.

        Args:
            ids: Interventions to move (all when None).
            until: Last status to reach: ``scheduled``, ``started`` or ``completed``.
            steps: Move each intervention at most this many steps (no limit when None).
            cancel_share: Share of the open interventions cancelled instead of moved.
            wait: Return once the webhooks of the moves are delivered or given up.

        Returns:
            The interventions that moved (after the move), and the counts of their webhooks
            (:meth:`webhook_counts`).

        Raises:
            SandboxHTTPError: 404 when an id is unknown.

        """
        target = _PROGRESSION.index(until)
        moved: list[dict[str, Any]] = []
        pushes: list[_Push | None] = []
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
                iid = intervention["id"]
                if cancel_share and random.Random(f"urbest-cancel:{self.seed}:{iid}").random() < cancel_share:
                    pushes.append(self._transition(iid, StatusIn(status="cancelled"))[1])
                    moved.append(copy.deepcopy(intervention))
                    continue
                rng = random.Random(f"urbest-job:{self.seed}:{iid}")
                low, high = (_INSPECTION_COST if intervention.get("kind") == "inspection"
                             else _COST_RANGES.get(intervention["category"], (80, 400)))
                cost = Decimal(rng.randint(low * 100, high * 100)) / 100
                recharge = rng.random() < recharge_share(intervention)
                last = target if steps is None else min(target, step + steps)
                for status in _PROGRESSION[step + 1 : last + 1]:
                    done = status == "completed"
                    pushes.append(self._transition(iid, StatusIn(
                        status=status,  # type: ignore[arg-type]
                        cost_eur=cost if done else None,
                        rechargeable_to_tenant=recharge if done else None,
                    ))[1])
                moved.append(copy.deepcopy(intervention))
        return moved, self._settle(pushes, wait)

    def simulate_agents(
        self, count: int, *, wait: bool = True
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The landlord's agents open ``count`` work orders in the tool (drawn from the seed).

        Each is pushed to the hub as ``intervention.created`` (when a hub URL is set).

        Args:
            count: Number of work orders.
            wait: Return once their webhooks are delivered or given up.

        Returns:
            The interventions created, and the counts of their webhooks (:meth:`webhook_counts`).

        """
        created: list[dict[str, Any]] = []
        pushes: list[_Push | None] = []
        with self.lock:
            for _ in range(count):
                job = self._agents_rng.choice(AGENT_JOBS)
                lot = self._agents_rng.choice(self.lots) if self.lots else None
                building = building_of(lot) if lot else None
                location = Location(lot_ref=lot if job.scope == "lot" else None,
                                    building_ref=building)
                body = NewIntervention(
                    title=job.title, description=job.description, category=job.category,
                    priority=job.priority, location=location, kind=job.kind,
                )
                intervention = self._create(body, origin="back_office")
                pushes.append(self._emit(intervention))
                created.append(copy.deepcopy(intervention))
        return created, self._settle(pushes, wait)

    # -- webhooks ------------------------------------------------------------------------------

    def _emit(self, intervention: dict[str, Any]) -> _Push | None:
        """Record and queue the webhook of the change just made (caller holds the lock)."""
        if not self.hub_url:
            return None
        status = intervention["status"]
        at = intervention["history"][-1]["at"]
        seed = f"{intervention['id']}|{intervention['created_at']}|{len(intervention['history'])}"
        event_id = "evt_" + hashlib.sha256(seed.encode()).hexdigest()[:24]
        payload: dict[str, Any] = {
            "event": f"intervention.{status}",
            "event_id": event_id,
            "occurred_at": at,
            "intervention": copy.deepcopy(intervention),
        }
        malformed = (self._webhook_rng.choice(MALFORMED_KINDS)
                     if self.injector.should_malform() else None)
        if malformed == "missing_intervention":
            del payload["intervention"]
        elif malformed == "missing_intervention_id":
            del payload["intervention"]["id"]
        elif malformed == "priority_not_a_code":
            payload["intervention"]["priority"] = "urgent"
        self.webhooks.append({
            "event_id": event_id,
            "event": payload["event"],
            "intervention_id": intervention["id"],
            "malformed": malformed is not None,
            "malformed_kind": malformed,
            "queued_at": utc_now_iso(),
            "sent_at": None,
            "status_code": None,
            "attempts": 0,
            "accepted": False,
            "ingestion_id": None,
            "error": None,
        })
        push = _Push(len(self.webhooks) - 1, json.dumps(payload, ensure_ascii=False).encode())
        shard = zlib.crc32(intervention["id"].encode()) % len(self._queues)
        if not self._senders:
            self._senders = [
                threading.Thread(target=self._send_loop, args=(q,), name=f"urbest-push-{n}",
                                 daemon=True)
                for n, q in enumerate(self._queues)
            ]
            for sender in self._senders:
                sender.start()
        self._queues[shard].put(push)
        return push

    def _send_loop(self, pending: queue.Queue[_Push | None]) -> None:
        while (push := pending.get()) is not None:
            try:
                self._send(push)
            finally:
                push.done.set()

    def _send(self, push: _Push) -> None:
        hub_url = self.hub_url
        if not hub_url:
            with self.lock:
                self.webhooks[push.index]["error"] = "no hub_url"
            return
        with self.lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.http_timeout_s)
            client = self._client
        try:
            delivery = push_webhook(
                client, hub_url.rstrip("/") + INGEST_PATH, push.body, self.webhook_secret,
                user_agent="urbest-sandbox/1.0", max_retries=self.max_retries,
                backoff_s=self.retry_backoff_s, jitter=self._jitter,
            )
            record = delivery.as_record()
        except Exception as exc:  # a sender thread must survive anything
            record = {"error": f"{type(exc).__name__}: {exc}"}
        with self.lock:
            self.webhooks[push.index].update(record)

    def _settle(self, pushes: list[_Push | None], wait: bool, timeout_s: float = 120.0) -> dict[str, int]:
        """Wait (when asked) for ``pushes`` to be delivered or given up; return their counts."""
        sent = [p for p in pushes if p is not None]
        deadline = time.monotonic() + timeout_s
        for push in sent if wait else []:
            push.done.wait(max(0.0, deadline - time.monotonic()))
        return self.webhook_counts([p.index for p in sent])

    def flush(self, timeout_s: float = 120.0) -> bool:
        """Wait until every queued webhook is delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.webhook_counts()["pending"]:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def webhook_counts(self, indexes: list[int] | None = None) -> dict[str, int]:
        """Counts of pushed webhooks (all, or those at ``indexes``): queued, accepted, failed, pending."""
        with self.lock:
            records = self.webhooks if indexes is None else [self.webhooks[i] for i in indexes]
            done = [r for r in records if r["attempts"] or r["error"]]
            accepted = sum(1 for r in done if r["accepted"])
            return {"queued": len(records), "accepted": accepted, "failed": len(done) - accepted,
                    "pending": len(records) - len(done),
                    "malformed": sum(1 for r in records if r["malformed"])}

    def close(self) -> None:
        """Stop the sender threads (after the queued webhooks) and close the HTTP client."""
        for pending in self._queues:
            pending.put(None)
        for sender in self._senders:
            sender.join(timeout=30)
        self._senders = []
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reads ---------------------------------------------------------------------------------

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
        """Return ``GET /sandbox/state``: interventions, contractors, webhooks, ledger, faults."""
        with self.lock:
            return {
                "interventions": copy.deepcopy(list(self.interventions.values())),
                "contractors": copy.deepcopy(self.contractors),
                "webhooks": copy.deepcopy(self.webhooks),
                "webhook_counts": self.webhook_counts(),
                **super().snapshot(),
            }


def create_app(
    *,
    seed: int = 42,
    hub_url: str | None = None,
    webhook_secret: str = "pivot-dev-secret",
    faults: FaultSettings | None = None,
    honour_idempotency_keys: bool = True,
    lots: list[str] | None = None,
    retry_backoff_s: float = 0.2,
) -> FastAPI:
    """Build the Urbest sandbox app; its state is ``app.state.sandbox`` (:class:`UrbestState`).

    Args:
        seed: Seed of contractors, job costs, agents' work orders and faults.
        hub_url: Base URL of the hub webhooks are pushed to (``/v1/ingest/urbest``); None
            pushes nothing.
        webhook_secret: HMAC-SHA256 key shared with the hub.
        faults: Initial fault settings.
        honour_idempotency_keys: False applies every delivery of a write again.
        lots: Lot codes of the estate (e.g. the ERP sandbox's) for the agents' work orders.
        retry_backoff_s: First backoff of webhook retries (tests pass a tiny one).

    """
    state = UrbestState(
        seed=seed, hub_url=hub_url, webhook_secret=webhook_secret, faults=faults,
        honour_idempotency_keys=honour_idempotency_keys, lots=lots,
        retry_backoff_s=retry_backoff_s,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="Urbest sandbox",
        version="1.0",
        description="A stateful stand-in for the Urbest-like maintenance tool (work orders).",
        lifespan=lifespan,
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
        moved, webhooks = state.advance(
            request.ids, request.until, steps=request.steps, cancel_share=request.cancel_share,
            wait=request.wait,
        )
        return {"advanced": [i["id"] for i in moved], "interventions": moved,
                "webhooks": webhooks}

    @app.post("/sandbox/interventions/simulate", status_code=201, tags=["sandbox"])
    def simulate_interventions(request: SimulateInterventionsRequest) -> dict[str, Any]:
        created, webhooks = state.simulate_agents(request.count, wait=request.wait)
        return {"created": [i["id"] for i in created], "interventions": created,
                "webhooks": webhooks}

    return app
