"""Benchmarks: each figure measured beside its reference, in one run, on one broker.

``pivot bench`` runs them; see docs/performance.md for the method and the figures.
"""
