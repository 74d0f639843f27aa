"""The hub's processing stages: translate (raw → canonical) and deliver (canonical → satellite)."""
