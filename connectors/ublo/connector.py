"""The Ublo-like tool: master of lots' technical data and of tenant requests."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canonical_model.events import (
    LotOccupancyChanged,
    LotUpserted,
    RequestClosed,
    RequestReceived,
    RequestUpdated,
)
from connectors.sdk import Connector, ConnectorSettings, Inbound, Outbound
from connectors.ublo.mapping import (
    change_occupancy,
    create_request,
    map_property_updated,
    map_request_created,
    map_request_updated,
    upsert_lot,
)
from connectors.ublo.payloads import UbloPropertyUpdated, UbloRequestCreated, UbloRequestUpdated


class UbloSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_UBLO_*``."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_UBLO_", extra="ignore")


class UbloConnector(Connector):
    """Property and request webhooks in; lots, occupancy and chatbot requests out.

    Ublo masters the records behind every outbound row, so none of them echoes back the
    events Ublo itself published (``from_self=False``).
    """

    name = "ublo"
    settings_class = UbloSettings
    #: Property events are keyed by property, request events by request.
    source_key_path = ("data.property.id", "data.request.id")
    masters = {"lot": frozenset({"typology", "habitable_surface_m2", "rooms", "floor",
                                 "dpe_energy_class", "dpe_ges_class", "dpe_number"})}
    inbound = {
        "property.updated": Inbound(UbloPropertyUpdated, (LotUpserted,), map_property_updated),
        "request.created": Inbound(
            UbloRequestCreated, (RequestReceived, RequestUpdated, RequestClosed), map_request_created
        ),
        "request.updated": Inbound(
            UbloRequestUpdated, (RequestUpdated, RequestClosed), map_request_updated
        ),
    }
    outbound = {
        LotUpserted.event_type: Outbound(LotUpserted, upsert_lot, from_self=False),
        LotOccupancyChanged.event_type: Outbound(
            LotOccupancyChanged, change_occupancy, from_self=False
        ),
        RequestReceived.event_type: Outbound(RequestReceived, create_request, from_self=False),
    }
