"""``python -m hna`` runs the command line."""

from hna.cli import main

main()
