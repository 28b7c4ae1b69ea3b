"""``python -m legation`` runs the command line."""

from legation.cli import main

main()
