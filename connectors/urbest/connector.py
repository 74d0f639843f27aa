"""The Urbest-like maintenance tool: master of interventions (work orders)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canonical_model.events import (
    InterventionCancelled,
    InterventionCompleted,
    InterventionCreated,
    InterventionScheduled,
    InterventionStarted,
    LeaseNoticeGiven,
    RequestTriaged,
)
from connectors.sdk import Connector, ConnectorSettings, Inbound, Outbound
from connectors.urbest.mapping import (
    create_intervention,
    map_cancelled,
    map_completed,
    map_created,
    map_scheduled,
    map_started,
    plan_pre_exit_visit,
    urgency_rank,
)
from connectors.urbest.payloads import (
    InterventionCancelledHook,
    InterventionCompletedHook,
    InterventionCreatedHook,
    InterventionScheduledHook,
    InterventionStartedHook,
)


class UrbestSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_URBEST_*``."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_URBEST_", extra="ignore")


class UrbestConnector(Connector):
    """Work orders out (triaged requests, pre-exit visits); their lifecycle back in by webhook."""

    name = "urbest"
    settings_class = UrbestSettings
    source_key_path = "intervention.id"
    inbound = {
        "intervention.created": Inbound(InterventionCreatedHook, (InterventionCreated,), map_created),
        "intervention.scheduled": Inbound(
            InterventionScheduledHook, (InterventionScheduled,), map_scheduled
        ),
        "intervention.started": Inbound(InterventionStartedHook, (InterventionStarted,), map_started),
        "intervention.completed": Inbound(
            InterventionCompletedHook, (InterventionCompleted,), map_completed
        ),
        "intervention.cancelled": Inbound(
            InterventionCancelledHook, (InterventionCancelled,), map_cancelled
        ),
    }
    outbound = {
        RequestTriaged.event_type: Outbound(
            RequestTriaged, create_intervention, emits=(InterventionCreated,), priority=urgency_rank
        ),
        LeaseNoticeGiven.event_type: Outbound(
            LeaseNoticeGiven, plan_pre_exit_visit, emits=(InterventionCreated,)
        ),
    }
