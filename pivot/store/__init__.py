"""The relational store: xref, golden records with lineage, processed event ids."""

from pivot.store.db import Store

__all__ = ["Store"]
