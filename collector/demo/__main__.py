"""``python -m collector.demo`` is ``pricelens demo`` (handy before the CLI command is wired)."""

import typer

from collector.demo.runner import demo_command

typer.run(demo_command)
