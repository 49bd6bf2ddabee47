"""`python -m instruments score|rate|list|show|validate ...` before the app exists."""

from __future__ import annotations

import click

from .cli import instruments_group, rate_command, score_command


@click.group()
def main() -> None:
    """Yiyang scoring commands."""


main.add_command(score_command)
main.add_command(rate_command)
for name, command in instruments_group.commands.items():
    main.add_command(command, name)
main.add_command(instruments_group)

if __name__ == "__main__":
    main()
