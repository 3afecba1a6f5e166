"""FX020: rewrite imports that cannot resolve from the documented start folder (see ImportRoots)."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from fixer.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.startup import ImportFix
from fixer.rules.base import FixerCodemod, TextRule

RULE_ID = "FX020"
RULE_NAME = "import-roots"


class ImportRoots(FixerCodemod):
    """FX020 import-roots: Imports written for another start folder, rewritten for the one the project documents

    ## What it does
    Rewrites each `from X import ...` that cannot resolve when the app is started the way the project documents it
    (README, Dockerfile, Procfile, compose, vercel.json; `--entrypoint`/`--run-from` override) into the name the same
    module has from that start folder: `from core.config import settings` becomes `from src.core.config import
    settings` when the app is started as `uvicorn src.main:app` from the backend folder, and `from .routes import
    router` becomes `from routes import router` when it is started as `uvicorn main:app` from inside the package.
    Every import of the project gets the one style the start command fits; imports that resolve are left alone.

    ## Why is this bad?
    The server does not start: `ModuleNotFoundError: No module named 'core'`, or `ImportError: attempted relative
    import with no known parent package` (APP-UVICORN-PATH). The code was written (or generated) for `src/` on
    `sys.path` or for a start from the parent folder, and the documented command does neither.

    ## Example
    ```python
    # started as uvicorn src.main:app from backend/ (README.md)
    from core.config import settings
    ```

    ## Use instead
    ```python
    from src.core.config import settings
    ```

    ## Fix safety
    Safe when every documented start agrees (the failing import is shown by the one way the project is started).
    Unsafe when the project's start commands disagree (README and Dockerfile start it from different folders): the
    fix fits the deploy file's start, written only with `--unsafe-fixes`. `import X.Y` statements (the fix would
    change the bound name) and `from . import x` are left as they are: FX030 reports them.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"^[ \t]*from[ \t]", re.M)

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        prediction = model.startup.primary
        return prediction is not None and any(fix.path == path for fix in prediction.import_fixes)

    def enters(self, statement: cst.BaseStatement) -> bool:
        return isinstance(statement, (cst.SimpleStatementLine, cst.If, cst.Try))

    def _fixes(self) -> dict[str, ImportFix]:
        prediction = self.facts.startup.primary
        if prediction is None:
            return {}
        return {fix.old: fix for fix in prediction.import_fixes if fix.path == self.context.filename}

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if updated_node.module is None:
            return updated_node
        written = "." * len(updated_node.relative) + self.code(updated_node.module)
        fix = self._fixes().get(written)
        if fix is None:
            return updated_node
        startup = self.facts.startup
        start = startup.primary.start if startup.primary else None
        safe = not startup.disagreement
        new = updated_node.with_changes(module=cst.parse_expression(fix.new), relative=())
        failure = next((f for f in startup.primary.failures if f.path == fix.path and f.line == fix.line), None) \
            if startup.primary else None
        error = str(failure) if failure else f"ModuleNotFoundError: No module named '{written.lstrip('.').split('.')[0]}'"
        self.report(Finding(
            rule=RULE_ID,
            category=Category.IMPORT,
            severity=Severity.CRITICAL,
            problem=f"`{self.code(original_node)}` cannot import when the app is started as {start.describe() if start else 'documented'}",
            root_cause=f"{error}: the module is `{fix.new}` from the folder the server starts in.",
            old_code=self.code(original_node),
            new_code=self.code(new),
            explanation="Import the module by the name it has from the documented start folder.",
            defects=self.DEFECTS,
            fixed=safe or self.facts.unsafe_fixes,
            safe=safe,
            evidence=(f"started as {start.describe()}" if start else "")
            + (f"; {startup.disagreement}" if startup.disagreement else ""),
        ))
        return new if (safe or self.facts.unsafe_fixes) else updated_node


class ImportRootsStartCommand(TextRule):
    # The part of FX020 that reads no file: the start command to change, when that is smaller than rewriting
    # the imports. One rule, one documentation: ImportRoots' (set below).

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)

    def applies_to(self, path: str) -> bool:
        return False

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        startup = facts.startup
        new, old = startup.start_fix, startup.primary.start if startup.primary else None
        if new is None or old is None:
            return []
        where = old.where or ("README.md", 1)
        return [(where[0], Finding(
            rule=RULE_ID,
            category=Category.ENTRYPOINT,
            severity=Severity.CRITICAL,
            problem=f"{old.source} starts the app as {old.describe()}: {startup.imports_kept} imports are written for "
                    f"`{new.app}` from {new.run_from or '.'}/",
            root_cause="The package's imports (relative imports, or names from its top folder) need the app started as "
                       "part of its package; changing the one start command is smaller than rewriting them.",
            old_code=old.command,
            new_code=f"{new.command}  # run from {new.run_from or '.'}/",
            explanation=f"Start the app as `{new.app}` from {new.run_from or '.'}/ in {old.source}.",
            fixed=False,
            defects=self.DEFECTS,
            line=where[1],
            evidence=f"walked from both starts: {startup.imports_kept} import lines fail from {old.run_from or '.'}/, "
                     f"none from {new.run_from or '.'}/",
        ))]


ImportRootsStartCommand.__doc__ = ImportRoots.__doc__
