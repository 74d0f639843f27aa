"""Offline reading and control of home-insurance certificates (attestations d'assurance habitation).

See ``docs/ai.md``. :class:`AiInsuranceConnector` puts them on the bus (certificates sent with
tenant requests, read and checked against the lease); it and its settings are imported on first
use, so ``import connectors.ai_insurance`` stays light (no HTTP client, no PDF parser).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.ai_insurance.control import check_certificate
from connectors.ai_insurance.reader import CertificateReadError, ExtractedCertificate, read_certificate

if TYPE_CHECKING:
    from connectors.ai_insurance.connector import AiInsuranceConnector
    from connectors.ai_insurance.settings import AiInsuranceSettings

__all__ = [
    "AiInsuranceConnector",
    "AiInsuranceSettings",
    "CertificateReadError",
    "ExtractedCertificate",
    "check_certificate",
    "read_certificate",
]


def __getattr__(name: str) -> Any:
    """Import the connector and its settings when first asked for."""
    if name == "AiInsuranceConnector":
        from connectors.ai_insurance.connector import AiInsuranceConnector

        return AiInsuranceConnector
    if name == "AiInsuranceSettings":
        from connectors.ai_insurance.settings import AiInsuranceSettings

        return AiInsuranceSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
