"""The hub's HTTP API (FastAPI)."""

from pivot.api.app import create_app

__all__ = ["create_app"]
