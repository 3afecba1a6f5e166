"""The entry points: the `fixer` command line, the GitHub Action (`python -m fixer.cli.action`) and the language
server (`fixer server`). They drive the stages; no stage imports them."""

from fixer.cli.commands import run  # the `fixer` console script (pyproject.toml: fixer.cli.commands:run)

__all__ = ["run"]
