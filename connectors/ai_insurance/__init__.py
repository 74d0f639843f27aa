"""Offline reading and control of home-insurance certificates (attestations d'assurance habitation).

See ``docs/ai.md``. The bus connector that calls it is wired by the hub, not here.
"""

from connectors.ai_insurance.control import check_certificate
from connectors.ai_insurance.reader import CertificateReadError, ExtractedCertificate, read_certificate

__all__ = ["CertificateReadError", "ExtractedCertificate", "check_certificate", "read_certificate"]
