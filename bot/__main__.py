"""``python -m bot`` runs the snapfit command line (same as the ``snapfit`` script)."""

from bot.cli import main

main()
