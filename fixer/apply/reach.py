"""Fixes in Python files no documented start reaches are offers, not safe fixes.

A fix is safe when fixer's prediction of the documented start fails without it. A file the start never imports
(a test, a one-off script, a sample, a notebook export) has no predicted failure behind an edit: whatever the
rule saw there, the backend starts the same without it. Such a file's safe fixes become unsafe (written with
`--unsafe-fixes`, else offered). Reached: the modules each documented start imports (at import or in its startup
hooks, and what their imports inside functions reach: a request runs those), the migration files alembic
runs, and the scripts a start document names (`python scripts/seed.py`,
`python -m app.initial_data`). Without a predicted start (no app found) nothing is known to be unreached.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from fixer.model import ProjectModel
from fixer.model.entrypoints import documents
from fixer.model.modules import Role
from fixer.model.startfiles import read_text
from fixer.rules.findings import FileResult

__all__ = ["hold_unreached"]

_UNREACHED = "no documented start imports or runs this file, so no predicted failure needs the edit"


def hold_unreached(results: list[FileResult], facts: ProjectModel, root: Path, paths: list[str]) -> list[FileResult]:
    """`results` with the safe fixes in unreached Python files made unsafe (and, without --unsafe-fixes,
    not written)."""
    predictions = facts.startup.predictions
    if not facts.has_app or not predictions:
        return results
    walked = {rel for p in predictions for rel in (*p.order, *p.late_order)}
    reached: set[str] | None = None
    named: str | None = None
    out = []
    for result in results:
        if not _held(result, facts, walked):
            out.append(result)
            continue
        if reached is None:
            reached = _lazily_imported(root, paths, walked)
            named = _start_documents(root, paths)
        if result.path in reached or _named_in(result.path, named or ""):
            out.append(result)
            continue
        out.append(_offered(result, facts.unsafe_fixes))
    return out


def _lazily_imported(root: Path, paths: list[str], walked: set[str]) -> set[str]:
    """`walked` with the project modules their import statements anywhere (in a route, a dependency, a task)
    reach, transitively: the walk follows what runs at import, and a request runs the rest. Any module a dotted
    name could mean counts, so a doubtful import keeps its fixes safe."""
    by_dotted: dict[str, set[str]] = {}
    for rel in paths:
        if rel.endswith(".py"):
            parts = rel[:-3].split("/")
            if parts[-1] == "__init__":
                parts.pop()
            for cut in range(len(parts)):
                by_dotted.setdefault(".".join(parts[cut:]), set()).add(rel)
    reached, stack = set(walked), list(walked)
    while stack:
        rel = stack.pop()
        try:
            tree = ast.parse(read_text(root / rel) or "")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            for dotted in _imported_names(node, rel):
                for found in by_dotted.get(dotted, ()):
                    if found not in reached:
                        reached.add(found)
                        stack.append(found)
    return reached


def _imported_names(node: ast.AST, rel: str) -> list[str]:
    """The dotted names an import statement may load (`from a import b`: a and a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        folder = rel.split("/")[:-1]
        folder = folder[:len(folder) - (node.level - 1)] if node.level > 1 else folder
        base = ".".join([*folder, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" if base else alias.name for alias in node.names)]


def _held(result: FileResult, facts: ProjectModel, reached: set[str]) -> bool:
    # A file a fix creates (a package's `__init__.py`) serves the start's imports: it has no code of its own.
    return (
        result.path.endswith(".py")
        and bool(result.old)
        and result.path not in reached
        and facts.role(result.path) is not Role.MIGRATION
        and any(f.fixed and f.safe for f in result.findings)
    )


def _start_documents(root: Path, paths: list[str]) -> str:
    """The text of every file that documents a start (README, Dockerfile, compose file, Procfile, scripts)."""
    return "\n".join(read_text(path) or "" for path, _, _, _ in documents(root, paths))


def _named_in(rel: str, text: str) -> bool:
    """A start document runs the file: by its path (`python scripts/seed.py`, from any folder above it) or as a
    module (`python -m app.initial_data`)."""
    parts = rel.removesuffix(".py").split("/")
    text = re.sub(r"(?<![\w.])\./", "", text)  # `python ./scripts/seed.py`
    for i in range(len(parts)):
        tail = "/".join(parts[i:])
        module = ".".join(parts[i:])
        # A tail of folders may follow the folder a container copies the code to (`/app/scripts/seed.py`); a bare
        # file name after a `/` is another folder's file.
        before = r"[\w.-]" if "/" in tail else r"[\w/.-]"
        if re.search(rf"(?<!{before}){re.escape(tail)}\.py\b", text) or \
                re.search(rf"-m\s+{re.escape(module)}(?![\w.])", text):
            return True
    return False


def _offered(result: FileResult, unsafe_fixes: bool) -> FileResult:
    findings = [
        dataclasses.replace(f, safe=False, fixed=f.fixed and unsafe_fixes,
                            evidence="; ".join(filter(None, (f.evidence, _UNREACHED))))
        if f.fixed and f.safe else f
        for f in result.findings
    ]
    new = result.new if unsafe_fixes else result.old
    return dataclasses.replace(result, findings=findings, new=new)
