"""Home-insurance certificates for the demo: real PDFs, drawn for the day's own tenants.

Each certificate is printed by the evaluation-set generator of the certificate reader, in the
layout of one insurer, for a tenant of the ERP (their name, their building's address), with
an outcome chosen in advance: valid, expired, or for another address.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from connectors.ai_insurance.make_eval_set import LAYOUTS, STREET_ABBREVIATIONS, Certificate, render

#: What each drawn certificate is meant to be found, in order.
OUTCOMES = ("valid", "valid", "expired", "mismatch")


@dataclass(frozen=True)
class Insured:
    """A tenant the certificate is for, as the golden records know them."""

    first_name: str
    last_name: str
    street: str  # "73 Avenue Jean Cagne"
    postcode: str
    city: str


def printable(street: str) -> bool:
    """Whether the generator can print this street ("<number> <known street type> <name>")."""
    parts = street.split(" ", 2)
    return len(parts) == 3 and parts[0].isdigit() and parts[1].lower() in STREET_ABBREVIATIONS


def certificate_pdf(insured: Insured, outcome: str, today: date, seed: int) -> bytes:
    """A certificate PDF for ``insured`` that a correct reader finds ``outcome``."""
    rng = random.Random(f"{seed}:{insured.last_name}:{outcome}")
    _, insurer, draw, policy = rng.choice(LAYOUTS)
    number, kind, name = insured.street.split(" ", 2)
    start = today - timedelta(days=rng.randrange(30, 300))
    if outcome == "expired":
        start = today - timedelta(days=rng.randrange(380, 500))
    if outcome == "mismatch":  # the tenant's previous home
        number, kind, name = str(rng.randrange(2, 90)), "rue", "Pierre Corneille"
    certificate = Certificate(
        insurer=insurer, policy_number=policy(rng),
        people=[("Mme" if rng.random() < 0.5 else "M.", insured.first_name, insured.last_name)],
        number=number, street_type=kind.lower(), street_name=name, complement="",
        postcode=insured.postcode, city=insured.city, valid_from=start,
        valid_to=start.replace(year=start.year + 1) - timedelta(days=1),
        issued=start - timedelta(days=10), member_number=f"{rng.randrange(10**7):07d}",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "attestation.pdf"
        render(draw(certificate, rng), path)
        return path.read_bytes()
