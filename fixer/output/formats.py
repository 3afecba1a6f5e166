"""`--output-format`: each format is one small module of fixer.output with `render(diagnostics) -> str`, fed the
same run (its `Diagnostics`)."""

from __future__ import annotations

import importlib

from fixer.output.diagnostics import Diagnostics, collect

FORMATS = ("text", "json", "json-ruff", "github", "sarif", "gitlab", "markdown", "rdjson", "junit")

__all__ = ["FORMATS", "Diagnostics", "collect", "render"]


def render(fmt: str, diagnostics: Diagnostics) -> str:
    """Every format but `text` (the patch / the written files, which the commands print themselves)."""
    module = importlib.import_module(f"fixer.output.{fmt.replace('-', '_')}")
    return module.render(diagnostics)
