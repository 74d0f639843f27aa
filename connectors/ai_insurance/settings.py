"""Settings of the certificate reader on the bus (``PIVOT_CONNECTOR_AI_INSURANCE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from connectors.sdk.settings import ConnectorSettings


class AiInsuranceSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_AI_INSURANCE_*``: where the certificates are fetched from.

    ``base_url`` is the document store: the API of the channel tool tenants send their documents
    through (the chatbot's, ``GET /api/v1/attachments/{id}``). Reading and checking run in the
    hub's process, offline.
    """

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_AI_INSURANCE_", extra="ignore")

    timeout_s: float = Field(default=10.0, gt=0, description="Read timeout of one document download.")
