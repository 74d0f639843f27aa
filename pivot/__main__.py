"""``python -m pivot`` runs the CLI."""

from pivot.cli import main

main()
