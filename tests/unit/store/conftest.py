"""Fixtures of the store tests: realistic French source ids, unique within the test session.

On PostgreSQL every test of a session shares one database, so each test draws fresh numbers
instead of reusing ``LOC-0004567``; the shapes stay those the satellites really use.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

_NUMBERS = itertools.count(4567)


@dataclass(frozen=True)
class SourceIds:
    """Source ids of the landlord's satellites, all built on one session-unique number."""

    n: int

    @property
    def erp_tenant(self) -> str:
        """ERP tiers reference, e.g. ``LOC-0004567``."""
        return f"LOC-{self.n:07d}"

    @property
    def erp_tenant_new(self) -> str:
        """The same tenant's reference in the new ERP after a migration, e.g. ``TIE-2026-004567``."""
        return f"TIE-2026-{self.n:06d}"

    @property
    def rpls_lot(self) -> str:
        """RPLS dwelling number of a lot (12 characters, INSEE code of Villeurbanne first)."""
        return f"69266{self.n:07d}"

    @property
    def urbest_intervention(self) -> str:
        """Urbest intervention number, e.g. ``URB-2026-000012``."""
        return f"URB-2026-{self.n:06d}"

    @property
    def chatbot_user(self) -> str:
        """Chatbot user id, e.g. ``CB-USR-000123``."""
        return f"CB-USR-{self.n:06d}"


@pytest.fixture
def ids() -> SourceIds:
    """Fresh realistic source ids for this test."""
    return SourceIds(next(_NUMBERS))


@pytest.fixture
def more_ids() -> SourceIds:
    """A second, different set of fresh source ids."""
    return SourceIds(next(_NUMBERS))
