"""French identifiers: normalising types, and checks that report instead of raising.

A satellite that sends a SIRET with a wrong check digit has still sent a SIRET: the hub keeps the
value, normalised, and records a quality finding (see :mod:`canonical_model.quality`). So the types
below only *normalise* (strip separators, fix the case, write phones in E.164); they never reject a
value for its format or checksum. :func:`validate_identifier` says whether a value is valid.

=============  ====================================================================================
kind           what is checked
=============  ====================================================================================
siren          9 digits, Luhn checksum (python-stdnum ``stdnum.fr.siren``)
siret          14 digits, Luhn checksum, valid SIREN prefix (``stdnum.fr.siret``, La Poste rule)
rpls_id        format only: 10 to 12 characters ``A-Z0-9`` (the dwelling number declared to the
               Répertoire des logements locatifs des bailleurs sociaux; no public checksum exists)
rnb_id         12 characters of the RNB alphabet (digits 1-9, letters without I and O), the
               Référentiel National des Bâtiments id, often shown ``PG46-YY6Y-TTHQ``
ban_key        Base Adresse Nationale interoperability key ``<insee>_<street>_<number>[_<suffix>]``
               e.g. ``69266_1234_00012`` or ``93066_b042_00027_bis`` (lower case)
dpe_number     format only: ADEME DPE number, 13 characters: 2-digit year, 2-character department
               (``69``, ``2A``), one letter, 8 letters or digits, e.g. ``2369E1234567Z``
insee_code     INSEE commune code: 5 digits, or ``2A``/``2B`` + 3 digits in Corsica
email          one ``@``, a dotted domain, no spaces, at most 254 characters
phone_e164     E.164 (``+`` and 8 to 15 digits); French numbers must have 9 digits after ``+33``
=============  ====================================================================================
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic.fields import FieldInfo
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

IDENTIFIER_SCHEMA_KEY = "x-identifier"

_WHITESPACE = re.compile(r"\s+")


def _remove(characters: str) -> Callable[[str], str]:
    pattern = re.compile(rf"[\s{re.escape(characters)}]+")
    return lambda value: pattern.sub("", value)


_compact_number = _remove(".-")
_compact_code = _remove("-")
_compact_rnb = _remove("-_")


def _normalise_siren(value: str) -> str:
    return _compact_number(value)


def _normalise_upper_code(value: str) -> str:
    return _compact_code(value).upper()


def _normalise_rnb(value: str) -> str:
    return _compact_rnb(value).upper()


def _normalise_ban(value: str) -> str:
    return _WHITESPACE.sub("", value).lower()


def _normalise_insee(value: str) -> str:
    return _WHITESPACE.sub("", value).upper()


def _normalise_email(value: str) -> str:
    text = value.strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at else text


# Overseas departments dial their own country code: 0590 12 34 56 is +590 590 12 34 56.
_OVERSEAS_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "0590": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy (landlines)
        "0690": "590",
        "0691": "590",
        "0594": "594",  # Guyane
        "0694": "594",
        "0596": "596",  # Martinique
        "0696": "596",
        "0697": "596",
        "0262": "262",  # La Réunion
        "0263": "262",
        "0692": "262",
        "0693": "262",
        "0269": "262",  # Mayotte
        "0639": "262",
    }
)
_PHONE_SEPARATORS = re.compile(r"[\s.\-/]+")
_TRUNK_ZERO = re.compile(r"^(\+[0-9]{2,3})\(0\)")
_PARENTHESES = re.compile(r"[()]")
_INTERNATIONAL = re.compile(r"^\+[0-9]+$")
_INTERNATIONAL_00 = re.compile(r"^00[0-9]+$")
_FRENCH_NATIONAL = re.compile(r"^0[0-9]{9}$")
_FRENCH_WITH_TRUNK = re.compile(r"^\+330[1-9][0-9]{8}$")


def _normalise_phone(value: str) -> str:
    text = _PHONE_SEPARATORS.sub("", value)
    text = _PARENTHESES.sub("", _TRUNK_ZERO.sub(r"\1", text))
    if _INTERNATIONAL_00.fullmatch(text):
        text = "+" + text[2:]
    if _FRENCH_WITH_TRUNK.fullmatch(text):
        return "+33" + text[4:]
    if _INTERNATIONAL.fullmatch(text):
        return text
    if _FRENCH_NATIONAL.fullmatch(text):
        country = _OVERSEAS_PREFIXES.get(text[:4], "33")
        return f"+{country}{text[1:]}"
    return text


def _stdnum_check(label: str, validate: Callable[[str], str], length: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            validate(value)
        except InvalidLength:  # subclass of InvalidFormat: test it first
            return f"{label} {value!r} has {len(value)} characters, expected {length}"
        except InvalidFormat:
            return f"{label} {value!r} must contain digits only"
        except InvalidChecksum:
            return f"{label} {value!r} fails its checksum (Luhn)"
        except ValidationError:
            return f"{label} {value!r} is not valid"
        return None

    return check


def _pattern_check(
    label: str, pattern: str, expected: str, *, personal: bool = False
) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def check(value: str) -> str | None:
        if compiled.fullmatch(value):
            return None
        # Messages end up in logs and findings: never quote personal data.
        subject = label if personal else f"{label} {value!r}"
        return f"{subject} is not {expected}"

    return check


_check_email_format = _pattern_check(
    "email", r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+", "an address like name@domain.fr", personal=True
)


def _check_email(value: str) -> str | None:
    if len(value) > 254:
        return f"email is {len(value)} characters long, more than 254"
    return _check_email_format(value)


_check_e164 = _pattern_check(
    "phone", r"\+[1-9][0-9]{7,14}", "in E.164 form (+ then 8 to 15 digits)", personal=True
)
_NINE_DIGIT_COUNTRIES = ("33", "262", "590", "594", "596")


def _check_phone(value: str) -> str | None:
    problem = _check_e164(value)
    if problem is not None:
        return problem
    for country in _NINE_DIGIT_COUNTRIES:
        if value.startswith("+" + country):
            national = value[1 + len(country) :]
            if len(national) != 9 or national.startswith("0"):
                return f"phone needs 9 digits after +{country}, not starting with 0"
            return None
    return None


@dataclass(frozen=True, slots=True)
class IdentifierKind:
    """One kind of identifier: how to normalise it and how to check it.

    Attributes:
        name: Registry key, also the ``x-identifier`` schema marker and the quality rule segment
            (``identifier.<name>.invalid``).
        description: What the identifier is, for humans.
        example: A valid, normalised example.
        normalise: Idempotent function putting a raw value in canonical form; never raises.
        check: Function returning an error message for a *normalised* value, or None.

    """

    name: str
    description: str
    example: str
    normalise: Callable[[str], str]
    check: Callable[[str], str | None]


_KINDS = (
    IdentifierKind(
        "siren",
        "SIREN, 9-digit French company number (INSEE Sirene)",
        "552100554",
        _normalise_siren,
        _stdnum_check("SIREN", stdnum_siren.validate, 9),
    ),
    IdentifierKind(
        "siret",
        "SIRET, 14-digit French establishment number: SIREN + 5-digit NIC",
        "55210055400013",
        _normalise_siren,
        _stdnum_check("SIRET", stdnum_siret.validate, 14),
    ),
    IdentifierKind(
        "rpls_id",
        "RPLS dwelling number (format check: 10 to 12 characters A-Z0-9)",
        "692660012345",
        _normalise_upper_code,
        _pattern_check("RPLS id", r"[A-Z0-9]{10,12}", "10 to 12 characters A-Z0-9"),
    ),
    IdentifierKind(
        "rnb_id",
        "Référentiel National des Bâtiments id, 12 characters without separators",
        "PG46YY6YTTHQ",
        _normalise_rnb,
        _pattern_check("RNB id", r"[1-9A-HJ-NP-Z]{12}", "12 characters of the RNB alphabet (no 0, I, O)"),
    ),
    IdentifierKind(
        "ban_key",
        "Base Adresse Nationale key <insee>_<street>_<number>[_<suffix>]",
        "69266_1234_00012",
        _normalise_ban,
        _pattern_check(
            "BAN key",
            r"([0-9]{5}|2[ab][0-9]{3})_[0-9a-z]{4,5}_[0-9]{5}(_[0-9a-z]+)?",
            "like 69266_1234_00012 or 69266_1234_00012_bis",
        ),
    ),
    IdentifierKind(
        "dpe_number",
        "ADEME DPE number (format check: YY + department + letter + 8 characters)",
        "2369E1234567Z",
        _normalise_upper_code,
        _pattern_check(
            "DPE number",
            r"[0-9]{2}([0-9]{2}|2[AB])[A-Z][0-9A-Z]{8}",
            "13 characters like 2369E1234567Z",
        ),
    ),
    IdentifierKind(
        "insee_code",
        "INSEE commune code (code officiel géographique)",
        "69266",
        _normalise_insee,
        _pattern_check("INSEE code", r"[0-9]{5}|2[AB][0-9]{3}", "5 digits (2A/2B in Corsica)"),
    ),
    IdentifierKind(
        "email",
        "Email address (domain lower-cased)",
        "samira.benali@exemple.fr",
        _normalise_email,
        _check_email,
    ),
    IdentifierKind(
        "phone_e164",
        "Phone number in E.164 (French national numbers are converted)",
        "+33612345678",
        _normalise_phone,
        _check_phone,
    ),
)

IDENTIFIER_KINDS: Mapping[str, IdentifierKind] = MappingProxyType({k.name: k for k in _KINDS})
"""Every identifier kind, by name."""


def _kind(name: str) -> IdentifierKind:
    try:
        return IDENTIFIER_KINDS[name]
    except KeyError:
        known = ", ".join(sorted(IDENTIFIER_KINDS))
        raise ValueError(f"unknown identifier kind {name!r}; known kinds: {known}") from None


def normalise_identifier(kind: str, value: str) -> str:
    """Put an identifier in canonical form (never raises for a string value).

    Args:
        kind: A key of :data:`IDENTIFIER_KINDS`.
        value: The raw value, e.g. ``"552 100 554 00013"``.

    Returns:
        The normalised value, e.g. ``"55210055400013"``.

    Raises:
        ValueError: If ``kind`` is unknown.

    """
    return _kind(kind).normalise(value)


def validate_identifier(kind: str, value: str) -> str | None:
    """Say whether an identifier is valid, after normalisation.

    Args:
        kind: A key of :data:`IDENTIFIER_KINDS`.
        value: The value to check (raw or normalised).

    Returns:
        None when valid, otherwise a one-line message saying what is wrong. Never raises for a
        bad value.

    Raises:
        ValueError: If ``kind`` is unknown (a programming error, not a data error).

    """
    identifier = _kind(kind)
    if not isinstance(value, str):
        return f"{kind} must be a string, got {type(value).__name__}"
    try:
        normalised = identifier.normalise(value)
        if not normalised:
            return f"{kind} is empty"
        return identifier.check(normalised)
    except Exception as error:  # a check must never take the pipeline down
        return f"{kind} could not be checked: {type(error).__name__}"


def _normaliser(kind: str) -> BeforeValidator:
    normalise = _kind(kind).normalise

    def before(value: object) -> object:
        return normalise(value) if isinstance(value, str) else value

    return BeforeValidator(before)


def _marker(kind: str) -> FieldInfo:
    return Field(json_schema_extra={IDENTIFIER_SCHEMA_KEY: kind})


Siren = Annotated[str, _normaliser("siren"), _marker("siren")]
"""SIREN, normalised to 9 characters without separators; checked by quality, not rejected."""
Siret = Annotated[str, _normaliser("siret"), _marker("siret")]
"""SIRET, normalised to 14 characters without separators; checked by quality, not rejected."""
RplsId = Annotated[str, _normaliser("rpls_id"), _marker("rpls_id")]
"""RPLS dwelling number, upper-cased, without spaces or dashes."""
RnbId = Annotated[str, _normaliser("rnb_id"), _marker("rnb_id")]
"""RNB building id, upper-cased, without the display dashes (``PG46YY6YTTHQ``)."""
BanKey = Annotated[str, _normaliser("ban_key"), _marker("ban_key")]
"""BAN address key, lower-cased, without spaces (``69266_1234_00012_bis``)."""
DpeNumber = Annotated[str, _normaliser("dpe_number"), _marker("dpe_number")]
"""ADEME DPE number, upper-cased, without spaces or dashes."""
InseeCode = Annotated[str, _normaliser("insee_code"), _marker("insee_code")]
"""INSEE commune code, upper-cased (``2A004``)."""
Email = Annotated[str, _normaliser("email"), _marker("email")]
"""Email address, trimmed, domain lower-cased."""
PhoneE164 = Annotated[str, _normaliser("phone_e164"), _marker("phone_e164")]
"""Phone number in E.164 when recognisable (``06 12 34 56 78`` → ``+33612345678``)."""
