"""Decisions of the AI services: what decided what, with which model, on which inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pivot.store.tables import AiDecision


@dataclass(frozen=True)
class Decision:
    """One AI decision, as a service reports it."""

    model: str
    model_version: str
    input_sha256: str
    subject: str
    output: dict[str, Any]


def record(session: Session, event_id: str, decision: Decision) -> bool:
    """Record a decision once per (event, model, subject); False when it was already recorded."""
    try:
        with session.begin_nested():
            session.add(AiDecision(event_id=event_id, model=decision.model,
                                   model_version=decision.model_version,
                                   input_sha256=decision.input_sha256, subject=decision.subject,
                                   output=decision.output))
    except IntegrityError:
        return False
    return True


def about(session: Session, subject: str) -> list[AiDecision]:
    """Every decision about a canonical id, oldest first."""
    return list(session.scalars(select(AiDecision).where(AiDecision.subject == subject)
                                .order_by(AiDecision.id)))
