"""Property (patrimoine): addresses, residences, buildings and lots."""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field

from canonical_model.base import CanonicalEntity, CanonicalModel
from canonical_model.identifiers import BanKey, DpeNumber, InseeCode, RnbId, RplsId

ConstructionYear = Annotated[int, Field(ge=1600, le=2100)]
"""A year of construction (completion)."""


def _compact_postcode(value: object) -> object:
    return "".join(value.split()) if isinstance(value, str) else value


Postcode = Annotated[str, BeforeValidator(_compact_postcode), Field(pattern=r"^[0-9]{5}$")]
"""French postcode, 5 digits (`"69 100"` is accepted as `"69100"`)."""

SurfaceM2 = Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2)]
"""A surface in square metres, exact, at most two decimals."""


class Address(CanonicalModel):
    """A postal address.

    Not personal data in itself (a building's address); a field holding a person's home address
    declares it with `pii(PIIClass.CONTACT)`.
    """

    street: str = Field(min_length=1)
    """Number and street, e.g. `12 rue Francis de Pressensé`."""
    postcode: Postcode
    """Postcode."""
    city: str = Field(min_length=1)
    """City (commune) name as written on mail."""
    insee_code: InseeCode | None = None
    """INSEE code of the commune."""
    ban_key: BanKey | None = None
    """Base Adresse Nationale key of the address."""


class Typology(StrEnum):
    """Dwelling typology: T<n> has n main rooms (T6 means six or more)."""

    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    T5 = "T5"
    T6 = "T6"


class Financing(StrEnum):
    """State loan the dwelling was financed with; it sets the rent ceiling and the income cap."""

    PLAI = "PLAI"
    PLUS = "PLUS"
    PLS = "PLS"
    PLI = "PLI"


class DpeClass(StrEnum):
    """DPE label class (energy or greenhouse gases), A best, G worst."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"


class OccupancyStatus(StrEnum):
    """Occupancy of a lot (transitions: canonical_model.entities.lifecycle)."""

    OCCUPIED = "occupied"
    VACANT = "vacant"
    NOTICE = "notice"
    WORKS = "works"


class Residence(CanonicalEntity):
    """A residence (groupe, programme): one or more buildings managed together."""

    kind: ClassVar[str] = "residence"

    name: str = Field(min_length=1)
    """Name, e.g. `Résidence Les Tilleuls`."""
    address: Address
    """Main address."""
    commune: str = Field(min_length=1)
    """Commune, e.g. `Villeurbanne` (may differ from the postal city for a district)."""
    construction_year: ConstructionYear | None = None
    """Year of completion."""


class Building(CanonicalEntity):
    """A building (bâtiment) of a residence."""

    kind: ClassVar[str] = "building"

    residence_id: str
    """Canonical id of the residence."""
    name: str = Field(min_length=1)
    """Name, e.g. `Bâtiment B`."""
    rnb_id: RnbId | None = None
    """Référentiel National des Bâtiments id."""
    ban_key: BanKey | None = None
    """BAN key of the building's main entrance."""
    address: Address
    """Postal address."""
    floors: int | None = Field(default=None, ge=1, le=80)
    """Levels above ground, ground floor included (an R+4 building has 5)."""


class Lot(CanonicalEntity):
    """A lot: a dwelling of a building."""

    kind: ClassVar[str] = "lot"

    building_id: str
    """Canonical id of the building."""
    rpls_id: RplsId | None = None
    """Number declared to the RPLS (Répertoire des logements locatifs des bailleurs sociaux)."""
    typology: Typology
    """Typology, T1 to T6."""
    habitable_surface_m2: SurfaceM2
    """Habitable surface (surface habitable) in m²."""
    rooms: int = Field(ge=1, le=20)
    """Number of main rooms."""
    floor: int | None = Field(default=None, ge=-5, le=80)
    """Floor: 0 is the ground floor, negative below ground."""
    financing: Financing | None = None
    """Financing (PLAI, PLUS, PLS, PLI)."""
    dpe_energy_class: DpeClass | None = None
    """DPE energy class."""
    dpe_ges_class: DpeClass | None = None
    """DPE greenhouse-gas class."""
    dpe_number: DpeNumber | None = None
    """ADEME number of the DPE."""
    construction_year: ConstructionYear | None = None
    """Year of completion."""
    occupancy_status: OccupancyStatus
    """Occupancy."""
