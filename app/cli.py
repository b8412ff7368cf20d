"""The `flask --app app wangge` command group."""

import click


@click.group()
def wangge() -> None:
    """Wangge grid-governance commands."""
