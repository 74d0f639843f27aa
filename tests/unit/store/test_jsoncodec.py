"""The hub's JSON codec accepts and rejects what the standard library does."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pivot import jsoncodec


def test_it_writes_compact_utf8_and_reads_it_back() -> None:
    lot = {"adresse": "12 rue de la Rôtisserie, 69003 Lyon", "loyer": 612.4, "pièces": 3,
           "dpe": "D", "étage": None}
    raw = jsoncodec.dumps(lot)
    assert raw == json.dumps(lot, ensure_ascii=False, separators=(",", ":")).encode()
    assert jsoncodec.loads(raw) == lot
    assert jsoncodec.dumps_str({1: "a"}) == '{"1":"a"}'  # as json.dumps turns keys to text


def test_what_orjson_refuses_the_standard_library_decides() -> None:
    for raw in (b'{"ref": 123456789012345678901234}', '{"ref": -98765432109876543210}'):
        assert jsoncodec.loads(raw) == json.loads(raw)  # beyond 64 bits: every digit kept
        assert isinstance(jsoncodec.loads(raw)["ref"], int)
    assert jsoncodec.loads("[NaN]")[0] != jsoncodec.loads("[NaN]")[0]
    assert jsoncodec.dumps({"ref": 2**70}) == f'{{"ref":{2**70}}}'.encode()
    with pytest.raises(TypeError):
        jsoncodec.dumps({"montant": Decimal("612.40")})  # not JSON for json.dumps either


def test_bad_input_raises_value_errors() -> None:
    for bad in (b"{", b'{"a": }', b"\xff\xfe{}", b""):
        with pytest.raises(ValueError):
            jsoncodec.loads(bad)
    with pytest.raises(TypeError):
        jsoncodec.dumps({"when": object()})
