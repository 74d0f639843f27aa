import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from canonical_model import (
    IDENTIFIER_KINDS,
    Building,
    Intervention,
    Tenant,
    normalise_identifier,
    validate_identifier,
)


@pytest.mark.parametrize("value", ["552 100 554", "552100554", "552.100.554", " 552 100 554 "])
def test_valid_siren_in_its_usual_spellings(value: str) -> None:
    assert normalise_identifier("siren", value) == "552100554"
    assert validate_identifier("siren", value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("552 100 553", "checksum"),
        ("55210055", "8 characters, expected 9"),
        ("55210055A", "digits only"),
    ],
)
def test_invalid_siren_is_reported_not_raised(value: str, expected: str) -> None:
    message = validate_identifier("siren", value)
    assert message is not None
    assert expected in message


def test_siret_checksum_and_length() -> None:
    assert validate_identifier("siret", "552 100 554 00013") is None
    assert "checksum" in (validate_identifier("siret", "552 100 554 00014") or "")
    assert "expected 14" in (validate_identifier("siret", "5521005540001") or "")


def test_la_poste_siret_follows_its_own_rule() -> None:
    # La Poste establishments do not use Luhn: the digit sum is a multiple of 5.
    assert validate_identifier("siret", "356 000 000 00048") is None
    assert validate_identifier("siret", "356 000 000 00105") is None


def test_rnb_id_displayed_with_dashes_is_stored_without() -> None:
    assert normalise_identifier("rnb_id", "pg46-yy6y-tthq") == "PG46YY6YTTHQ"
    assert validate_identifier("rnb_id", "PG46-YY6Y-TTHQ") is None
    assert validate_identifier("rnb_id", "PG46-YY6Y-TTH0") is not None  # 0 is not in the alphabet
    assert validate_identifier("rnb_id", "PG46-YY6Y-TTH") is not None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("69266_2815_00012", "69266_2815_00012"),
        (" 93066_3910_00027_BIS ", "93066_3910_00027_bis"),
        ("2A004_0010_00005", "2a004_0010_00005"),
        ("69388_b042_00045", "69388_b042_00045"),
    ],
)
def test_valid_ban_keys(raw: str, normalised: str) -> None:
    assert normalise_identifier("ban_key", raw) == normalised
    assert validate_identifier("ban_key", raw) is None


@pytest.mark.parametrize("value", ["69266-2815-00012", "69266_2815_12", "6926_2815_00012", ""])
def test_invalid_ban_keys(value: str) -> None:
    assert validate_identifier("ban_key", value) is not None


def test_dpe_number_format() -> None:
    assert normalise_identifier("dpe_number", "23 69 E 1234567z") == "2369E1234567Z"
    assert validate_identifier("dpe_number", "2369E1234567Z") is None
    assert validate_identifier("dpe_number", "242AE0045821K") is None  # Corse-du-Sud
    assert validate_identifier("dpe_number", "2369E123456Z") is not None  # 12 characters
    assert validate_identifier("dpe_number", "AB69E1234567Z") is not None  # year is not digits


def test_rpls_id_format() -> None:
    assert normalise_identifier("rpls_id", "69266 b000-123") == "69266B000123"
    assert validate_identifier("rpls_id", "69266B000123") is None
    assert validate_identifier("rpls_id", "69266") is not None


def test_insee_code_including_corsica() -> None:
    assert validate_identifier("insee_code", "69266") is None
    assert validate_identifier("insee_code", "2a004") is None
    assert validate_identifier("insee_code", "6926") is not None


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+33 06 12 34 56 78", "+33612345678"),
        ("0033 (0)6 12 34 56 78", "+33612345678"),
        ("04 78 12 34 56", "+33478123456"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion mobile
        ("0596 61 23 45", "+596596612345"),  # Martinique landline
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_written_in_e164(raw: str, e164: str) -> None:
    assert normalise_identifier("phone_e164", raw) == e164
    assert validate_identifier("phone_e164", raw) is None


def test_invalid_phone_message_does_not_quote_the_number() -> None:
    message = validate_identifier("phone_e164", "06 98 76")
    assert message is not None
    assert "98" not in message
    assert validate_identifier("phone_e164", "+3361234567") is not None  # 8 digits after +33


def test_email_domain_is_lower_cased_and_checked() -> None:
    assert normalise_identifier("email", " Samira.Benali@Exemple.FR ") == "Samira.Benali@exemple.fr"
    assert validate_identifier("email", "samira.benali@exemple.fr") is None
    message = validate_identifier("email", "samira.benali@exemple")
    assert message is not None
    assert "benali" not in message


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown identifier kind 'nir'"):
        validate_identifier("nir", "1840369123456")


def test_non_string_value_gets_a_message() -> None:
    assert validate_identifier("siren", 552100554) == "siren must be a string, got int"  # type: ignore[arg-type]


def test_models_normalise_but_never_reject_identifiers() -> None:
    tenant = Tenant(id="tenant_1", last_name="Benali", phone="06 12 34 56 78")
    assert tenant.phone == "+33612345678"
    intervention = Intervention(
        id="intervention_1",
        category="plumbing",
        priority="normal",
        title="Fuite sous évier",
        contractor_siret="552 100 554 00014",  # wrong check digit: kept, reported by quality
    )
    assert intervention.contractor_siret == "55210055400014"


def test_identifier_types_are_marked_in_json_schema() -> None:
    schema = Building.model_json_schema()
    rnb = schema["properties"]["rnb_id"]["anyOf"][0]
    assert rnb["x-identifier"] == "rnb_id"
    assert schema["$defs"]["Address"]["properties"]["ban_key"]["anyOf"][0]["x-identifier"] == ("ban_key")


def test_every_kind_example_is_valid_and_normalised() -> None:
    for name, kind in IDENTIFIER_KINDS.items():
        assert kind.name == name
        assert kind.normalise(kind.example) == kind.example
        assert validate_identifier(name, kind.example) is None


@st.composite
def valid_sirets(draw: st.DrawFn) -> str:
    siren = luhn.calc_check_digit(base := draw(st.from_regex(r"[0-9]{8}", fullmatch=True)))
    siren = base + siren
    body = siren + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    return body + luhn.calc_check_digit(body)


@given(valid_sirets(), st.sampled_from(["", " ", "."]))
def test_generated_sirets_with_checksums_pass(siret: str, separator: str) -> None:
    spelled = separator.join([siret[:3], siret[3:6], siret[6:9], siret[9:]])
    assert validate_identifier("siret", spelled) is None
    assert validate_identifier("siren", siret[:9]) is None


@settings(max_examples=60)
@given(st.sampled_from(sorted(IDENTIFIER_KINDS)), st.text(max_size=40))
def test_normalisation_is_idempotent(kind: str, value: str) -> None:
    once = normalise_identifier(kind, value)
    assert normalise_identifier(kind, once) == once


@settings(max_examples=80)
@given(st.from_regex(r"(\+|00)?[0-9 ().-]{0,16}", fullmatch=True))
def test_phone_normalisation_is_idempotent_on_phone_like_text(value: str) -> None:
    once = normalise_identifier("phone_e164", value)
    assert normalise_identifier("phone_e164", once) == once


@settings(max_examples=60)
@given(st.sampled_from(sorted(IDENTIFIER_KINDS)), st.text(max_size=40))
def test_random_strings_never_raise(kind: str, value: str) -> None:
    result = validate_identifier(kind, value)
    assert result is None or (isinstance(result, str) and result)


@settings(max_examples=40)
@given(st.text(max_size=30), st.text(max_size=30))
def test_models_accept_any_identifier_text(rnb: str, ban: str) -> None:
    building = Building(
        id="building_1",
        residence_id="residence_1",
        name="Bâtiment A",
        rnb_id=rnb,
        ban_key=ban,
        address={"street": "45 avenue Paul Santy", "postcode": "69008", "city": "Lyon"},
    )
    assert building.rnb_id == normalise_identifier("rnb_id", rnb).strip()
