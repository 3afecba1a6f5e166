"""Run some rules over a small project written to a temporary folder, with the real project model."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path

from fixer.rules.findings import Finding
from fixer.apply.runner import run


def write(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fix(
    root: Path, files: Mapping[str, str], codemods: Sequence = (), text_rules: Sequence = (), unsafe: bool = False
) -> tuple[dict[str, str], list[Finding]]:
    """The files the rules change (path -> new text) and every finding; asserts Python output parses and that a
    second run over the changed tree changes nothing more."""
    write(root, files)
    result = run(root, list(codemods), [r() for r in text_rules], unsafe_fixes=unsafe)
    assert not [r.error for r in result.results if r.error], [r.error for r in result.results if r.error]
    changed = {r.path: r.new.decode() for r in result.results if r.changed}
    for rel, text in changed.items():
        if rel.endswith(".py"):
            ast.parse(text)
        (root / rel).write_text(text)
    again = run(root, list(codemods), [r() for r in text_rules], unsafe_fixes=unsafe)
    assert not [r.path for r in again.results if r.changed], "a second run changed more"
    return changed, [f for r in result.results for f in r.findings]
