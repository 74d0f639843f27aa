"""The one settings object of the hub, read from ``PIVOT_*`` environment variables.

Sections have their own prefix so the documented variable names stay flat:
``PIVOT_KAFKA_BOOTSTRAP``, ``PIVOT_DATABASE_URL``, ``PIVOT_API_PORT``...
Connector settings live with their connector (``PIVOT_CONNECTOR_<NAME>_*``).
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Scopes an operations API key may hold.
SCOPES = frozenset({"dlq:read", "dlq:replay"})

#: Secrets shipped for local development; refused when ``PIVOT_ENVIRONMENT=production``.
DEVELOPMENT_SECRETS = frozenset({"pivot-dev-secret", "changeme", ""})


class KafkaSettings(BaseSettings):
    """Kafka client settings (``PIVOT_KAFKA_*``).

    The group timeouts default low because consumer-group joins against the embedded broker
    are slow otherwise; production Kafka can keep them or use the client defaults.
    """

    model_config = SettingsConfigDict(env_prefix="PIVOT_KAFKA_", extra="ignore")

    bootstrap: str | None = Field(
        default=None,
        description="host:port list of the Kafka cluster; unset starts the embedded broker.",
    )
    partitions: int = Field(default=3, ge=1, description="Partitions of topics the hub creates.")
    replication_factor: int = Field(default=1, ge=1)
    session_timeout_ms: int = 6_000
    heartbeat_interval_ms: int = 1_000
    max_poll_interval_ms: int = Field(
        default=60_000, ge=1_000,
        description="Longest a batch may take before the group deems its consumer stuck.",
    )
    max_poll_records: int = Field(default=500, ge=1, description="Records per translate batch.")
    deliver_max_poll_records: int = Field(
        default=100, ge=1,
        description="Records per deliver batch: each calls a satellite (and may retry), so a "
                    "batch stays well within max_poll_interval_ms.",
    )
    fetch_max_wait_ms: int = Field(
        default=50, ge=0, description="Longest a fetch waits for data (latency vs. requests)."
    )
    linger_ms: int = 5
    batch_size: int = 256 * 1024
    request_timeout_ms: int = 10_000
    send_timeout_s: float = Field(default=10.0, description="Wait for a broker ack at most this long.")
    client_id: str = "pivot"
    recovery_check_s: float = Field(
        default=2.0, gt=0,
        description="How often the API checks the broker still has the hub's topics (reset).",
    )


class EmbeddedBrokerSettings(BaseSettings):
    """The embedded Tansu broker (``PIVOT_BROKER_*``), used when no bootstrap is configured."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_BROKER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port.")
    startup_timeout_s: float = 20.0


class StoreSettings(BaseSettings):
    """The relational store (``PIVOT_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_", extra="ignore")

    database_url: str = "sqlite:///var/pivot.db"
    database_echo: bool = False


class ApiSettings(BaseSettings):
    """The hub API (``PIVOT_API_*``)."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(default=1_048_576, ge=1, description="Largest accepted payload.")
    signature_tolerance_s: int = Field(
        default=300, ge=1, description="Webhooks signed longer ago than this are refused."
    )
    broker_ack_timeout_s: float = Field(
        default=2.0, gt=0,
        description="Wait this long for the broker's ack before spooling the payload in the store.",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr("pivot-dev-secret"),
        description="HMAC-SHA256 key shared with satellites that push webhooks.",
    )
    admin_api_key: SecretStr = Field(
        default=SecretStr("pivot-dev-secret"),
        description="Key with every operations scope (DLQ list and replay).",
    )
    api_keys: dict[str, list[str]] = Field(
        default_factory=dict,
        description='More keys with their scopes, as JSON: {"<key>": ["dlq:read"]}.',
    )

    def scopes_of(self, key: str) -> frozenset[str]:
        """Scopes granted to an API key (none for an unknown key)."""
        if key and hmac.compare_digest(key, self.admin_api_key.get_secret_value()):
            return frozenset(SCOPES)
        for candidate, scopes in self.api_keys.items():
            if key and hmac.compare_digest(key, candidate):
                return frozenset(scopes) & SCOPES
        return frozenset()


class WorkerSettings(BaseSettings):
    """``pivot worker`` (``PIVOT_WORKER_*``)."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_WORKER_", extra="ignore")

    deliver_concurrency: int = Field(
        default=4, ge=1, le=32,
        description="Keys of a deliver batch sent to the satellite side by side (each key's "
                    "events stay in order); 1 delivers one event at a time.",
    )
    switch_interval_ms: float = Field(
        default=1.0, gt=0, le=100,
        description="The interpreter's thread switch interval in a worker process (Python's "
                    "default is 5 ms): its threads wait on the broker, the store and the "
                    "satellites between short bursts of Python, and a shorter interval lets "
                    "the thread whose answer came back run sooner.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Bind address of /metrics.")
    metrics_port: int = Field(
        default=9108, ge=0, le=65535, description="Port of the worker's /metrics; 0 disables it."
    )


class CasesSettings(BaseSettings):
    """Case tracking (``PIVOT_CASES_*``): the deadline of each urgency, the case index's refresh.

    A case (a tenant request and the work that answers it) must be closed within its urgency's
    deadline, counted from the moment the landlord received the request. A request nobody has
    triaged yet is held to ``untriaged_hours``.
    """

    model_config = SettingsConfigDict(env_prefix="PIVOT_CASES_", extra="ignore")

    urgent_hours: float = Field(default=24.0, gt=0, description="Deadline of urgent requests.")
    high_hours: float = Field(default=72.0, gt=0, description="Deadline of high-urgency requests.")
    normal_hours: float = Field(default=720.0, gt=0, description="Deadline of normal requests (30 days).")
    untriaged_hours: float = Field(
        default=24.0, gt=0, description="Deadline of a request not triaged yet (as urgent)."
    )
    refresh_s: float = Field(
        default=15.0, gt=0, description="How often the API process refreshes the case index and gauges."
    )
    settle_s: float = Field(
        default=60.0, ge=0,
        description="Lineage younger than this is read again at the next refresh (late commits).",
    )

    def deadline(self, urgency: str | None) -> timedelta:
        """Time allowed to close a case of this urgency (``None``: not triaged yet)."""
        hours = {"urgent": self.urgent_hours, "high": self.high_hours,
                 "normal": self.normal_hours}.get(urgency or "", self.untriaged_hours)
        return timedelta(hours=hours)


class PivotSettings(BaseSettings):
    """Everything the hub reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    broker: EmbeddedBrokerSettings = Field(default_factory=EmbeddedBrokerSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    cases: CasesSettings = Field(default_factory=CasesSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> PivotSettings:
        if self.environment == "production":
            for name in ("webhook_secret", "admin_api_key"):
                secret: SecretStr = getattr(self.api, name)
                if secret.get_secret_value() in DEVELOPMENT_SECRETS:
                    raise ValueError(
                        f"PIVOT_API_{name.upper()} still has its development value; "
                        "set a real secret in production"
                    )
        return self


@lru_cache(maxsize=1)
def get_settings() -> PivotSettings:
    """Return the process-wide settings, read once from the environment."""
    return PivotSettings()
