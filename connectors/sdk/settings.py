"""Settings of a connector, read from ``PIVOT_CONNECTOR_<NAME>_*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConnectorSettings(BaseSettings):
    """Settings every connector has; subclass with ``env_prefix="PIVOT_CONNECTOR_<NAME>_"``."""

    model_config = SettingsConfigDict(extra="ignore")

    base_url: str = Field(default="http://127.0.0.1:9000", description="Satellite API base URL.")
    timeout_s: float = Field(default=2.0, gt=0, description="Read timeout of one call.")
    max_attempts: int = Field(default=5, ge=1, description="Attempts of a retryable failure.")
    max_delay_s: float = Field(default=20.0, gt=0, description="Stop retrying after this long.")
    initial_wait_s: float = Field(default=0.05, ge=0, description="First backoff wait.")
    max_wait_s: float = Field(default=2.0, ge=0, description="Longest backoff wait.")
