"""The two shapes a rule takes: a LibCST codemod over Python, or a text rule over another file format.

Both carry the same metadata (a stable ID, a name, a docstring whose first line is the title and whose
body says what the rule fixes, why, and shows a before/after example) and report `Finding`s.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from codemods.facts import ProjectFacts
from codemods.findings import Finding

FINDINGS_KEY = "fixer.findings"


class RuleMeta:
    """Metadata shared by every rule class."""

    RULE_ID: ClassVar[str]  # stable, e.g. "FX002"
    RULE_NAME: ClassVar[str]  # kebab-case, e.g. "async-imports"
    DEFECTS: ClassVar[tuple[str, ...]] = ()  # defect-catalogue IDs this rule handles

    @classmethod
    def title(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


class FixerCodemod(RuleMeta, VisitorBasedCodemodCommand):
    """Base of fixer's Python rules. A standard LibCST codemod command, so `python -m libcst.tool codemod` runs it too."""

    # Cheap text check on the raw bytes: a file it does not match is never parsed for this rule.
    TRIGGER: ClassVar[re.Pattern[bytes]]

    def __init__(self, context: CodemodContext, facts: ProjectFacts | None = None) -> None:
        super().__init__(context)
        self.DESCRIPTION = self.title()
        self._facts = facts

    @property
    def facts(self) -> ProjectFacts:
        # Run alone (e.g. by libcst.tool) there is no project scan: the file speaks for the project.
        if self._facts is None:
            module = self.context.module
            source = module.code.encode() if module is not None else b""
            self._facts = ProjectFacts.gather([(self.context.filename or "", source)])
        return self._facts

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # As CodemodCommand.transform_module, but with imports merged in order (see _OrderedAddImports).
        tree = Codemod.transform_module(self, tree)
        if AddImportsVisitor.CONTEXT_KEY in self.context.scratch:
            tree = self._instantiate_and_run(_OrderedAddImports, tree)
        if RemoveImportsVisitor.CONTEXT_KEY in self.context.scratch:
            tree = self._instantiate_and_run(RemoveImportsVisitor, tree)
        return tree

    def report(self, finding: Finding) -> None:
        self.context.scratch.setdefault(FINDINGS_KEY, []).append(finding)

    @staticmethod
    def code(node: cst.CSTNode) -> str:
        return cst.Module(body=[]).code_for_node(node)


class Unparseable(ValueError):
    """A text rule's file is not valid in its own format: the runner reports it and leaves it as it is."""


class TextRule(RuleMeta):
    """Base of fixer's rules over non-Python files (requirements, pyproject, .env, ini, compose)."""

    def applies_to(self, path: str) -> bool:
        """Whether this rule reads the file at `path` (relative to the root, POSIX separators)."""
        raise NotImplementedError

    def related(self, path: str, text: str) -> list[str]:
        """Further files (relative to the root) this file pulls in, e.g. `-r other.txt`; the runner reads them too."""
        return []

    def fix(self, path: str, text: str, facts: ProjectFacts) -> tuple[str, list[Finding]]:
        """Return the new text (the same object when nothing changes) and what was found."""
        raise NotImplementedError


class _OrderedAddImports(AddImportsVisitor):
    """AddImportsVisitor that merges a name into an existing `from m import ...` in sorted position.

    LibCST's own puts new names first, so `from m import b, c` plus `a` would come out `a, b, c` only by luck
    and `x` as `x, b, c`; a reviewer then sees the import reordered. Keep the names' order and layout instead.
    """

    def visit_Module(self, node: cst.Module) -> None:
        # LibCST only merges into the imports before the first other statement; AI-written modules often
        # import again after `load_dotenv()`. Treat every module-level `from m import ...` as mergeable.
        super().visit_Module(node)
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
                    if small in self.all_imports or small.module is None:
                        continue
                    self.all_imports.append(small)
                    module = cst.Module(body=[]).code_for_node(small.module)
                    present = {_alias_key(a)[2] for a in small.names if a.asname is None}
                    if module in self.module_mapping:
                        self.module_mapping[module] -= present
                        if not self.module_mapping[module]:
                            del self.module_mapping[module]

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        merged = super().leave_ImportFrom(original_node, updated_node)
        if merged is updated_node or isinstance(merged.names, cst.ImportStar) or isinstance(updated_node.names, cst.ImportStar):
            return merged
        names = list(updated_node.names)
        added = list(merged.names)[: len(merged.names) - len(names)]
        keys = [_alias_key(alias) for alias in names]
        in_order = keys == sorted(keys)
        for alias in added:
            at = len(names)
            if in_order:
                at = next((i for i, existing in enumerate(names) if _alias_key(existing) > _alias_key(alias)), len(names))
            # A comma carries the whitespace before the next name: reuse one that separates two names.
            separator = names[0].comma if len(names) > 1 else _first_separator(updated_node)
            if at == len(names):
                last = names[-1]
                names[-1] = last.with_changes(comma=separator)
                names.append(alias.with_changes(comma=last.comma))
            else:
                names.insert(at, alias.with_changes(comma=names[at - 1].comma if at else separator))
        return updated_node.with_changes(names=names)


def _alias_key(alias: cst.ImportAlias) -> tuple[int, str, str]:
    """isort/ruff `order-by-type`: CONSTANTS, then Classes, then everything else."""
    name = cst.Module(body=[]).code_for_node(alias.name)
    rank = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return rank, name.lower(), name


def _first_separator(node: cst.ImportFrom) -> cst.Comma:
    # `from m import (\n    a,\n)`: a second name goes on its own line, as the first does.
    if node.lpar is not None and isinstance(node.lpar.whitespace_after, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=node.lpar.whitespace_after)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
