"""`--output-format`: the same run (its `Diagnostics`) as JSON, GitHub workflow commands, SARIF, GitLab code
quality or a markdown review. Each format is one small module with `render(diagnostics) -> str`."""

from __future__ import annotations

import importlib

from fixer.output.diagnostics import Diagnostics, collect

FORMATS = ("text", "json", "json-ruff", "github", "sarif", "gitlab", "markdown", "rdjson", "junit")

__all__ = ["FORMATS", "Diagnostics", "collect", "render"]


def render(fmt: str, diagnostics: Diagnostics) -> str:
    """Every format but `text` (the patch / the written files, which the commands print themselves)."""
    module = importlib.import_module(f"fixer.output.{fmt.replace('-', '_')}")
    return module.render(diagnostics)
