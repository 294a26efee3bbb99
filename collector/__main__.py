"""``python -m collector`` is ``pricelens``."""

from collector.cli import main

main()
