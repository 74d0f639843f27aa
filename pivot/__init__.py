"""Pivot: the integration hub of a French social-housing landlord."""

__version__ = "0.1.0"
