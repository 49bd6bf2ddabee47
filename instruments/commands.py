"""`yiyang instruments import|publish|retire|export`: the registry from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scoring import DefinitionError

from .clidb import json_error, registry_session, required_session


def _echo(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _registry_error(exc: Exception) -> None:
    click.echo(json_error(getattr(exc, "message", str(exc)), getattr(exc, "message_en", str(exc))))
    sys.exit(2)


def register(group: click.Group) -> None:
    """Add the registry commands to the `instruments` group."""

    @group.command("import")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--publish", is_flag=True, help="Publish at once (default: store a draft).")
    @click.option("--note", default="", help="Change note kept with the version.")
    def import_command(path: str, publish: bool, note: str) -> None:
        """Import a YAML or XLSX definition as a draft; with errors print them all, store nothing, exit 2."""
        from . import registry
        from .files import read_definition_file

        try:
            _definition, text = read_definition_file(path)
        except DefinitionError as exc:
            _echo({"errors": exc.errors})
            sys.exit(2)
        with required_session() as session:
            try:
                row = registry.store(session, text, note=note, publish=publish)
            except registry.RegistryError as exc:
                _registry_error(exc)
                return
            _echo({"ok": True, "id": row.definition_id, "version": row.version,
                   "status": row.status, "checksum": row.checksum})

    @group.command("publish")
    @click.argument("definition_id")
    @click.argument("version")
    def publish_command(definition_id: str, version: str) -> None:
        """Publish a draft version: new records use it; existing records keep theirs."""
        from . import registry

        with required_session() as session:
            try:
                row = registry.publish_version(session, definition_id, version)
            except registry.RegistryError as exc:
                _registry_error(exc)
                return
            _echo({"ok": True, "id": row.definition_id, "version": row.version, "status": row.status})

    @group.command("retire")
    @click.argument("definition_id")
    @click.argument("version")
    def retire_command(definition_id: str, version: str) -> None:
        """Retire a version: no new records use it; records captured with it still open and score."""
        from . import registry

        with required_session() as session:
            try:
                row = registry.retire_version(session, definition_id, version)
            except registry.RegistryError as exc:
                _registry_error(exc)
                return
            _echo({"ok": True, "id": row.definition_id, "version": row.version, "status": row.status})

    @group.command("export")
    @click.argument("definition_id")
    @click.option("--version", default=None, help="Version (default: newest published, else newest draft).")
    @click.option("--format", "fmt", type=click.Choice(["yaml", "xlsx"]), required=True)
    @click.option("--output", required=True, type=click.Path(dir_okay=False, allow_dash=True))
    def export_command(definition_id: str, version: str | None, fmt: str, output: str) -> None:
        """Export one version as YAML or XLSX (both import back to the same definition)."""
        from . import UnknownDefinitionError, registry
        from .files import export_bytes

        with registry_session() as session:
            try:
                entry = registry.get_entry(session, definition_id, version, drafts=True)
            except UnknownDefinitionError as exc:
                click.echo(json_error(exc.message, exc.message_en))
                sys.exit(2)
            data = export_bytes(registry.definition_of(entry), registry.source_of(entry), fmt)
        if output == "-":
            sys.stdout.buffer.write(data)
            return
        Path(output).write_bytes(data)
        click.echo(f"{definition_id} 第 {entry.version} 版 → {output}")
