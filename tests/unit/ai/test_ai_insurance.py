"""The certificate reader (PDF, text, bytes, errors), the control function, the generated set."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from connectors.ai_insurance.control import addresses_match, check_certificate, names_match
from connectors.ai_insurance.make_eval_set import DATA_DIR, build
from connectors.ai_insurance.reader import CertificateReadError, ExtractedCertificate, read_certificate

LABELS = [json.loads(line) for line in (DATA_DIR / "labels.jsonl").read_text(encoding="utf-8").splitlines()]


def test_reads_a_table_layout_pdf() -> None:
    label = next(lab for lab in LABELS if lab["layout"] == "macif")
    got = read_certificate(DATA_DIR / label["file"]).public()
    assert got["insurer"] == "MACIF"
    assert got["policy_number"] == label["policy_number"]
    assert got["valid_from"] == label["valid_from"] and got["valid_to"] == label["valid_to"]
    assert addresses_match(got["address"], label["address"])
    assert got["confidence"] >= 0.9


def test_reads_a_sentence_layout_with_dates_in_words() -> None:
    label = next(lab for lab in LABELS if lab["layout"] == "maaf")
    got = read_certificate(str(DATA_DIR / label["file"]))
    assert got.insurer == "MAAF"
    assert [n.casefold() for n in got.insured_names] == [n.casefold() for n in label["insured_names"]]
    assert got.valid_from == date.fromisoformat(label["valid_from"])


def test_reads_plain_text_and_pdf_bytes() -> None:
    text = (
        "PACIFICA - Crédit Agricole Assurances\n"
        "Assuré : Mme Aïcha BENSAÏD\n"
        "N° de contrat : P 7788 9900 11\n"
        "Adresse du risque : 4 bd de la Libération, 13001 Marseille\n"
        "Date d'émission : 28/12/2024\n"
        "Période de validité : du 01/01/2025 au 31/12/2025\n"
    )
    got = read_certificate(text)
    assert got.public() == {
        "insurer": "Crédit Agricole Assurances (Pacifica)",
        "policy_number": "P 7788 9900 11",
        "insured_names": ["Aïcha BENSAÏD"],
        "address": "4 bd de la Libération, 13001 Marseille",
        "valid_from": "2025-01-01",
        "valid_to": "2025-12-31",
        "confidence": got.confidence,
    }
    first_pdf = DATA_DIR / LABELS[0]["file"]
    assert read_certificate(first_pdf.read_bytes()) == read_certificate(first_pdf)


def test_absent_fields_are_null() -> None:
    got = read_certificate("Attestation d'assurance\nAXA\nFait le 03/02/2025")
    public = got.public()
    assert public["insurer"] == "AXA"
    assert public["policy_number"] is None and public["valid_from"] is None and public["valid_to"] is None
    assert public["insured_names"] == []
    assert got.confidence < 0.5


def test_unreadable_documents_raise(tmp_path: Path) -> None:
    fake = tmp_path / "attestation.pdf"
    fake.write_text("ceci n'est pas un PDF")
    with pytest.raises(CertificateReadError, match="not a PDF"):
        read_certificate(fake)
    from reportlab.pdfgen import canvas

    scanned = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(scanned), invariant=1)
    pdf.rect(50, 50, 200, 100, fill=1)
    pdf.save()
    with pytest.raises(CertificateReadError, match="no text layer"):
        read_certificate(scanned)
    with pytest.raises(CertificateReadError, match="no such file"):
        read_certificate(tmp_path / "absent.pdf")


def test_generated_set_is_deterministic_and_committed_in_sync(tmp_path: Path) -> None:
    build(tmp_path, per_layout=1)
    regenerated = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.glob("*_01.pdf")}
    assert len(regenerated) == 10
    again = tmp_path / "again"
    build(again, per_layout=1)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in again.glob("*_01.pdf")} == regenerated


EXTRACTED = ExtractedCertificate(
    insurer="MAIF",
    policy_number="1234567 K",
    insured_names=["DUPONT Jean", "Marie Dupont"],
    address="12 av. Jean-Jaurès, 69007 LYON",
    valid_from=date(2025, 1, 1),
    valid_to=date(2025, 12, 31),
    confidence=0.97,
)


def test_check_valid_with_normalised_address_and_name() -> None:
    status, reasons = check_certificate(
        EXTRACTED, ["M. Jean Dupont"], "Bât. A, appt 12, 12 avenue Jean Jaurès, 69007 Lyon", date(2025, 6, 1)
    )
    assert status == "valid", reasons
    assert any("lease holder" in reason for reason in reasons)


def test_check_expired() -> None:
    status, reasons = check_certificate(
        EXTRACTED, ["Jean Dupont"], "12 avenue Jean Jaurès 69007 Lyon", date(2026, 1, 5)
    )
    assert status == "expired"
    assert reasons == ["cover ended on 2025-12-31, before 2026-01-05"]


def test_check_mismatch_address_or_names() -> None:
    status, reasons = check_certificate(
        EXTRACTED, ["Jean Dupont"], "14 avenue Jean Jaurès 69007 Lyon", date(2025, 6, 1)
    )
    assert status == "mismatch" and "not the lot's address" in reasons[0]
    status, reasons = check_certificate(
        EXTRACTED, ["Karim Benali"], "12 avenue Jean Jaurès 69007 Lyon", date(2025, 6, 1)
    )
    assert status == "mismatch" and "lease holder" in reasons[0]
    as_dict = {**EXTRACTED.public(), "address": None}
    assert check_certificate(as_dict, ["Jean Dupont"], "12 avenue Jean Jaurès 69007 Lyon", date(2025, 6, 1))[
        0
    ] == ("mismatch")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("3 bd Victor Hugo, 13001 Marseille", "3 boulevard Victor-Hugo 13001 MARSEILLE", True),
        ("7 bis r. de l'Église 35000 Rennes", "7 bis rue de l'Eglise, 35000 Rennes", True),
        ("7 bis rue de l'Église 35000 Rennes", "7 rue de l'Église 35000 Rennes", False),
        ("5 pl. St-Michel 75005 Paris", "5 place Saint Michel, 75005 PARIS", True),
        ("5 place Saint Michel 75005 Paris", "5 place Saint Michel 75006 Paris", False),
        ("12 avenue Jean Jaurès 69007 Lyon", "12 rue Jean Jaurès 69007 Lyon", False),
    ],
)
def test_address_normalisation(a: str, b: str, same: bool) -> None:
    assert addresses_match(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Mme Élodie LEFÈVRE", "elodie lefevre", True),
        ("BEN YOUSSEF Sandrine", "Madame Sandrine Ben Youssef", True),
        ("Jean-Pierre MARTIN", "M. Jean Pierre Martin", True),
        ("J. Dupont", "Jean Dupont", True),
        ("Jean Dupont", "Marie Dupont", False),
        ("Dupont", "Jean Dupont", False),
    ],
)
def test_name_normalisation(a: str, b: str, same: bool) -> None:
    assert names_match(a, b) is same
