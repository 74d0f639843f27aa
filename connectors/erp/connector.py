"""The ERP connector: master of tenants, leases, the estate and billing (quittancement).

The ERP sends no webhooks: the hub polls it (:mod:`connectors.erp.poll`), first a full
export, then its change feed. Out, the hub writes rechargeable intervention costs as billing
lines and the home-insurance status of leases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from canonical_model.events import (
    BuildingUpserted,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    InterventionCompleted,
    LeaseNoticeGiven,
    LeaseSigned,
    LeaseTerminated,
    LotOccupancyChanged,
    LotUpserted,
    ResidenceUpserted,
    TenantUpserted,
)
from connectors.erp.mapping import (
    bill_intervention,
    identities,
    map_building_export,
    map_lease_export,
    map_lease_signed,
    map_lot_export,
    map_notice_given,
    map_residence_export,
    map_tenant_export,
    map_tenant_updated,
    map_terminated,
    report_insurance,
)
from connectors.erp.payloads import (
    BuildingExported,
    LeaseExported,
    LeaseSignedChange,
    LotExported,
    NoticeGivenChange,
    ResidenceExported,
    TenantExported,
    TenantUpdatedChange,
    TerminatedChange,
)
from connectors.erp.poll import read_page
from connectors.sdk import Connector, ConnectorSettings, Inbound, Outbound, Page

#: Largest page the ERP serves.
MAX_PAGE_SIZE = 1000


class ErpSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_ERP_*``."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_ERP_", extra="ignore")

    page_size: int = Field(
        default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Records per export or change page."
    )


class ErpConnector(Connector):
    """Estate, tenants and leases in (polled); billing lines and insurance status out."""

    name = "erp"
    settings_class = ErpSettings
    source_key_path = "key"
    poll_interval_s = 1.0
    inbound = {
        "export.residence": Inbound(ResidenceExported, (ResidenceUpserted,), map_residence_export),
        "export.building": Inbound(BuildingExported, (BuildingUpserted,), map_building_export),
        "export.lot": Inbound(LotExported, (LotUpserted,), map_lot_export),
        "export.tenant": Inbound(TenantExported, (TenantUpserted,), map_tenant_export),
        "export.lease": Inbound(LeaseExported, (LeaseSigned, LeaseTerminated), map_lease_export),
        "lease.signed": Inbound(
            LeaseSignedChange, (LeaseSigned, TenantUpserted, LotOccupancyChanged), map_lease_signed
        ),
        "lease.notice_given": Inbound(
            NoticeGivenChange, (LeaseNoticeGiven, LotOccupancyChanged), map_notice_given
        ),
        "lease.terminated": Inbound(
            TerminatedChange, (LeaseTerminated, LotOccupancyChanged, TenantUpserted), map_terminated
        ),
        "tenant.updated": Inbound(TenantUpdatedChange, (TenantUpserted,), map_tenant_updated),
    }
    outbound = {
        InterventionCompleted.event_type: Outbound(InterventionCompleted, bill_intervention),
        InsuranceCertificateValidated.event_type: Outbound(InsuranceCertificateValidated, report_insurance),
        InsuranceCertificateRejected.event_type: Outbound(InsuranceCertificateRejected, report_insurance),
    }

    def identities(self, payload: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """The source and national ids the mapping of ``payload`` resolves (a bulk-load hint)."""
        return identities(self.name, payload.get(self.event_type_field), payload.get("data"))

    @property
    def page_size(self) -> int:
        """Records asked per page."""
        return int(getattr(self.settings, "page_size", MAX_PAGE_SIZE))

    def poll(self, cursor: str | None) -> Page:
        """Read the next export page or change-feed page after ``cursor`` (see :mod:`.poll`)."""
        return read_page(self.client, cursor, self.page_size)
