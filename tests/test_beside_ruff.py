"""README's "Beside ruff" table names every option of `fixer dry-run` and `fixer apply`, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

import fixer.cli.commands as cli

README = Path(__file__).resolve().parent.parent / "README.md"


def _options(command: str) -> set[str]:
    """What `fixer COMMAND --help` lists (both spellings of an option)."""
    help_text = CliRunner().invoke(cli.main, [command, "--help"]).output
    return {name for line in help_text.splitlines()
            for name in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", line.split("  ")[1] if line.startswith("  ") else "")
            if line.lstrip().startswith("-")} - {"-h", "--help"}


def _table() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("### Beside ruff", 1)[1].split("\n### ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:]]  # past the header


def test_the_ruff_table_names_every_option_and_only_real_ones() -> None:
    listed = {name for row in _table() for name in re.findall(r"`(--?[a-zA-Z][\w-]*)", row[1])}
    offered = _options("dry-run") | _options("apply")
    assert listed == offered


def test_the_formats_table_names_every_output_format() -> None:
    from fixer.output.formats import FORMATS

    section = README.read_text(encoding="utf-8").split("### Output formats", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"^\| `([\w-]+)`", section, re.M))
    assert listed == set(FORMATS)
