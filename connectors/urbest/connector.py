"""The Urbest-like maintenance tool: master of interventions (work orders)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canonical_model.events import InterventionCreated, RequestReceived
from connectors.sdk import Connector, ConnectorSettings, Outbound
from connectors.urbest.mapping import create_intervention


class UrbestSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_URBEST_*``."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_URBEST_", extra="ignore")


class UrbestConnector(Connector):
    """Tenant requests out as interventions; the created intervention back as canonical."""

    name = "urbest"
    settings_class = UrbestSettings
    outbound = {
        RequestReceived.event_type: Outbound(
            RequestReceived, create_intervention, emits=(InterventionCreated,)
        ),
    }
