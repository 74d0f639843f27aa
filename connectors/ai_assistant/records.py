"""Answers from the asking tenant's own golden records: their repair, certificate, pre-exit visit.

**Privacy rule**: every record used is reached from the tenant's id and checked to be theirs —
a request or certificate whose ``tenant_id`` is the tenant, a lease they hold, an intervention
linked from their own request or on the lot of their lease since their notice. Anything that
does not check out is left out, never shown. When nothing of theirs answers the question, the
tenant is told an agent takes it over (``handed_to_human``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.ai_assistant.intents import Topic
from connectors.ai_assistant.normalize import fold
from connectors.sdk.context import MappingContext

try:
    LANDLORD_TZ: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on the host: times are shown in UTC
    LANDLORD_TZ = None

#: What the maintenance tool's pre-exit visit titles contain (the Urbest connector opens them as
#: "Visite conseil avant état des lieux de sortie"); matched accent- and case-folded.
PRE_EXIT_MARK = "visite conseil"

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")
_CLOSING = "Un conseiller va vérifier votre dossier et vous répondre dans les meilleurs délais."


@dataclass(frozen=True)
class Finding:
    """An answer built from records, the ids it rests on, and whether a person must take over."""

    answer: str
    sources: tuple[str, ...]
    handed_to_human: bool = False


def landlord_day(moment: datetime) -> date:
    """The landlord's calendar day (Europe/Paris) of a time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LANDLORD_TZ).date() if LANDLORD_TZ else aware.astimezone(UTC).date()


def french_day(day: date) -> str:
    """``mardi 1er décembre 2026``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{_DAYS[day.weekday()]} {number} {_MONTHS[day.month - 1]} {day.year}"


def french_time(moment: datetime) -> str:
    """``mardi 1er décembre 2026 à 14 h 30`` in the landlord's time zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(LANDLORD_TZ) if LANDLORD_TZ else aware.astimezone(UTC)
    suffix = "" if LANDLORD_TZ else " (UTC)"
    return f"{french_day(local.date())} à {local.hour} h {local.minute:02d}{suffix}"


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _newest(records: Iterable[dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
    """Records sorted newest first on ``fields`` (ISO strings); ties keep the store's order."""
    def key(record: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(record.get(f) or "") for f in fields)
    return sorted(records, key=key, reverse=True)


def _own(records: Iterable[dict[str, Any]], tenant_id: str) -> list[dict[str, Any]]:
    """Only the records whose ``tenant_id`` is the tenant's (the store's filter, checked again)."""
    return [r for r in records if r.get("tenant_id") == tenant_id and r.get("id")]


def _own_lease(ctx: MappingContext, tenant_id: str, today: date) -> tuple[str, str, dict[str, Any]] | None:
    """(lot id, lease id, lease data) of the lease the tenant holds today, or None."""
    lot_id = ctx.lot_of_tenant(tenant_id, today)
    lease_id = ctx.lease_of_lot(lot_id, today) if lot_id else None
    lease = ctx.golden(lease_id) if lease_id else None
    if not lot_id or not lease_id or not lease or tenant_id not in (lease.get("holder_ids") or []):
        return None
    return lot_id, lease_id, lease


# ------------------------------------------------------------------------------ repairs


def _repair_text(intervention: dict[str, Any], asked_on: date | None) -> str:
    title = intervention.get("title") or "votre intervention"
    status = intervention.get("status")
    scheduled = _moment(intervention.get("scheduled_for"))
    asked = f" (demande du {asked_on:%d/%m/%Y})" if asked_on else ""
    if status == "completed":
        done = _moment(intervention.get("completed_at"))
        when = f" le {french_day(landlord_day(done))}" if done else ""
        return (f"Bonjour, l'intervention « {title} »{asked} est terminée{when}. Si le problème "
                "persiste, répondez à ce message : nous reprendrons votre demande.")
    if status == "cancelled":
        return (f"Bonjour, l'intervention « {title} »{asked} a été annulée. Si le problème persiste, "
                "répondez à ce message : un conseiller reprendra votre demande.")
    if status == "started":
        next_visit = f" Prochain passage prévu le {french_time(scheduled)}." if scheduled else ""
        return f"Bonjour, l'intervention « {title} »{asked} est en cours.{next_visit}"
    if scheduled:
        return (f"Bonjour, l'intervention « {title} »{asked} est programmée le {french_time(scheduled)}. "
                "Merci de prévoir un accès au logement.")
    return (f"Bonjour, votre demande « {title} »{asked} a bien été transmise à notre prestataire ; le "
            "rendez-vous n'est pas encore fixé. Vous serez prévenu dès qu'il le sera.")


def repair_status(ctx: MappingContext, tenant_id: str, today: date) -> Finding:
    """Status of the work opened for the tenant's latest request that has one."""
    requests = _newest(_own(ctx.find("request", tenant_id=tenant_id), tenant_id), "received_at")
    for request in requests:
        intervention_id = request.get("intervention_id")
        intervention = ctx.golden(intervention_id) if intervention_id else None
        if not intervention:
            continue
        # The work must be the one opened for this request, on the request's lot.
        if intervention.get("request_id") not in (None, request["id"]):
            continue
        if request.get("lot_id") and intervention.get("lot_id") not in (None, request["lot_id"]):
            continue
        asked = _moment(request.get("received_at"))
        text = _repair_text(intervention, landlord_day(asked) if asked else None)
        return Finding(text, (request["id"], str(intervention_id)))
    return Finding("Bonjour, nous ne trouvons pas d'intervention liée à vos demandes. " + _CLOSING, (),
                   handed_to_human=True)


# ---------------------------------------------------------------------------- insurance


_LEASE_INSURANCE = {
    "expired": "expirée",
    "missing": "manquante",
    "mismatch": "non conforme (nom ou adresse)",
}


def _certificate_text(certificate: dict[str, Any], today: date) -> str:
    insurer = f" {certificate['insurer']}" if certificate.get("insurer") else ""
    valid_to = _day(certificate.get("valid_to"))
    until = f"{valid_to:%d/%m/%Y}" if valid_to else ""
    status = certificate.get("status")
    send = "merci de nous envoyer votre attestation à jour ici, en photo ou en PDF."
    if status == "valid" and valid_to and valid_to < today:
        status = "expired"
    if status == "valid":
        return (f"Bonjour, votre attestation d'assurance{insurer} est acceptée ; elle couvre votre "
                f"logement jusqu'au {until}. Pensez à nous envoyer la suivante à son renouvellement.")
    if status == "received":
        return (f"Bonjour, nous avons bien reçu votre attestation d'assurance{insurer} ; elle est en "
                "cours de vérification. Vous serez prévenu si elle ne peut pas être acceptée.")
    if status == "expired":
        expired = valid_to is not None and valid_to < today
        ended = f" a expiré le {until}" if expired else " ne couvre pas la période en cours"
        return f"Bonjour, votre attestation d'assurance{insurer}{ended} : {send}"
    if status == "mismatch":
        reason = certificate.get("rejection_reason") or "elle ne correspond pas au bail ou au logement"
        return (f"Bonjour, votre attestation d'assurance{insurer} n'a pas pu être acceptée : {reason}. "
                "Merci de nous envoyer une attestation au nom des titulaires du bail, à l'adresse du "
                "logement, ici en photo ou en PDF.")
    return f"Bonjour, nous n'avons pas d'attestation d'assurance valide à votre nom : {send}"


def insurance_status(ctx: MappingContext, tenant_id: str, today: date) -> Finding:
    """Status of the tenant's latest certificate; else the insurance status of their lease."""
    certificates = _newest(_own(ctx.find("insurance_certificate", tenant_id=tenant_id), tenant_id),
                           "valid_from", "valid_to")
    if certificates:
        latest = certificates[0]
        return Finding(_certificate_text(latest, today), (latest["id"],))
    held = _own_lease(ctx, tenant_id, today)
    status = held[2].get("insurance_status") if held else None
    if held and status == "valid":
        return Finding("Bonjour, votre assurance habitation est enregistrée comme valide sur votre bail. "
                       "Pensez à nous envoyer la nouvelle attestation à chaque renouvellement.", (held[1],))
    if held and status in _LEASE_INSURANCE:
        return Finding(f"Bonjour, votre dossier indique une attestation d'assurance "
                       f"{_LEASE_INSURANCE[status]} : merci de nous envoyer votre attestation à jour "
                       "ici, en photo ou en PDF.", (held[1],))
    return Finding("Bonjour, nous ne trouvons pas encore d'attestation d'assurance à votre nom. Si vous "
                   "venez de l'envoyer, elle est en cours de lecture ; sinon, vous pouvez la joindre ici "
                   "(photo ou PDF). " + _CLOSING, (), handed_to_human=True)


# ---------------------------------------------------------------------------- inspection


def _is_pre_exit_visit(intervention: dict[str, Any], lot_id: str, since: date | None) -> bool:
    """A visit on the tenant's lot, not cancelled, and not dated before their notice."""
    if intervention.get("lot_id") != lot_id or intervention.get("status") == "cancelled":
        return False
    if PRE_EXIT_MARK not in fold(str(intervention.get("title") or "")):
        return False
    dated = _moment(intervention.get("completed_at")) or _moment(intervention.get("scheduled_for"))
    return since is None or dated is None or landlord_day(dated) >= since


def inspection(ctx: MappingContext, tenant_id: str, today: date) -> Finding:
    """Date of the pre-exit advice visit on the lot of the tenant's lease (after their notice)."""
    held = _own_lease(ctx, tenant_id, today)
    if held is None:
        return Finding("Bonjour, nous ne trouvons pas de bail en cours à votre nom. " + _CLOSING, (),
                       handed_to_human=True)
    lot_id, lease_id, lease = held
    notice = _day(lease.get("notice_date"))
    if lease.get("status") != "notice" and notice is None:
        return Finding("Bonjour, aucun préavis n'est enregistré sur votre bail : la visite conseil et "
                       "l'état des lieux de sortie sont fixés après réception de votre congé.",
                       (lease_id, "faq:etat-des-lieux"))
    since = notice or _day(lease.get("start_date"))
    visits = [v for v in ctx.find("intervention", lot_id=lot_id)
              if v.get("id") and _is_pre_exit_visit(v, lot_id, since)]
    end = _day(lease.get("end_date"))
    departure = (f" Votre départ est prévu le {french_day(end)} ; l'agence vous confirmera le rendez-vous "
                 "d'état des lieux de sortie." if end else "")
    for visit in _newest(visits, "scheduled_for"):
        scheduled = _moment(visit.get("scheduled_for"))
        done = _moment(visit.get("completed_at"))
        if visit.get("status") == "completed":
            when = f" le {french_day(landlord_day(done))}" if done else ""
            text = f"Bonjour, votre visite conseil avant l'état des lieux de sortie a eu lieu{when}."
        elif scheduled:
            text = (f"Bonjour, votre visite conseil avant l'état des lieux de sortie est prévue le "
                    f"{french_time(scheduled)}.")
        else:
            text = ("Bonjour, votre visite conseil avant l'état des lieux de sortie est demandée ; le "
                    "rendez-vous n'est pas encore fixé, vous serez prévenu dès qu'il le sera.")
        return Finding(text + departure, (lease_id, visit["id"]))
    return Finding("Bonjour, votre préavis est bien enregistré mais la visite conseil n'est pas encore "
                   "planifiée." + departure + " " + _CLOSING, (lease_id,), handed_to_human=True)


#: The record-based answer of each personal topic.
ANSWERS: dict[Topic, Callable[[MappingContext, str, date], Finding]] = {
    Topic.REPAIR_STATUS: repair_status,
    Topic.INSURANCE_STATUS: insurance_status,
    Topic.INSPECTION: inspection,
}
