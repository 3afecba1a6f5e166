"""FX020: rewrite imports that cannot resolve from the documented start folder (see ImportRoots)."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from typing import ClassVar

import libcst as cst

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.evidence import cite
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
    A module renamed for the start is renamed in every import of the app's files, or in none: inside functions,
    `import pkg.mod as m`, relative imports; when one cannot be rewritten without changing the name it binds
    (`import core.config`, `from . import config`), none of that module's imports is. Imports that resolve are
    left alone, and so is a `try:` whose `except ImportError:` imports the module another way when one of its
    branches imports from the documented start (when neither does, the branch that runs is rewritten).

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

    When the imports are written for another start (the package's parent folder, or the folder a `uvicorn.run()`
    block runs from) and that is the smaller change, the start command is changed where it is written instead
    (README, Dockerfile, Procfile, compose): `uvicorn main:app` becomes `uvicorn src.main:app --app-dir ..`, or
    `cd app && uvicorn main:app` becomes `uvicorn app.main:app`; every line of that file running the same command
    changes with it. The folders above a start without `__init__.py` are namespace packages of it: a
    `uvicorn.run(app)` in src/main.py whose imports say `from src.api import ...` is reported as
    `python -m src.main` from the folder above, nothing rewritten.

    ## Fix safety
    The start command is changed safely when the project documents that one start (a `uvicorn.run()` under
    `if __name__ == "__main__":` runs the same app), else only with `--unsafe-fixes`; a command fixer does not
    rewrite (gunicorn, `fastapi run`, one with `--app-dir` already) is reported. Imports: safe when every documented start agrees (the failing import is shown by the one way the project is started).
    Unsafe when the project's start commands disagree (README and Dockerfile start it from different folders): the
    fix fits the deploy file's start, written only with `--unsafe-fixes`. `import X.Y` statements (the fix would
    change the bound name) and `from . import x` are left as they are, with every other import of their module:
    FX030 reports them.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"^[ \t]*(?:from|import)[ \t]", re.M)

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        prediction = model.startup.primary
        return prediction is not None and any(fix.path == path for fix in prediction.import_fixes)

    def _fix(self, written: str) -> ImportFix | None:
        # By what is written, not by line: an earlier codemod of the chain may have moved the line, and position
        # metadata would copy the tree (a module LibCST cannot print back byte for byte would change unedited).
        # One module has one new name in a file (the walk renames a module everywhere or nowhere); were there two,
        # neither is guessed.
        prediction = self.facts.startup.primary
        fixes = [fix for fix in prediction.import_fixes if (fix.path, fix.old) == (self.context.filename, written)] \
            if prediction is not None else []
        return fixes[0] if len({fix.new for fix in fixes}) == 1 else None

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        written = "." * len(updated_node.relative) + (self.code(updated_node.module) if updated_node.module else "")
        fix = self._fix(written)
        if fix is None:
            return updated_node
        new = updated_node.with_changes(module=cst.parse_expression(fix.new), relative=())
        return new if self._report(original_node, new, fix) else updated_node

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        # Only `import pkg.mod as m` is planned (FX020's model): the name it binds stays `m`.
        fixes = [self._fix(self.code(alias.name)) for alias in updated_node.names]
        if not any(fixes):
            return updated_node
        new = updated_node.with_changes(names=[
            alias.with_changes(name=cst.parse_expression(fix.new)) if fix else alias
            for alias, fix in zip(updated_node.names, fixes)])
        return new if self._report(original_node, new, next(fix for fix in fixes if fix)) else updated_node

    def _report(self, original_node: cst.CSTNode, new: cst.CSTNode, fix: ImportFix) -> bool:
        """Report the rewrite; whether it is made."""
        startup = self.facts.startup
        start = startup.primary.start if startup.primary else None
        safe = not startup.disagreement
        failure = next((f for f in startup.primary.failures if f.path == fix.path and f.line == fix.line), None) \
            if startup.primary else None
        self.report(Finding(
            rule=RULE_ID,
            category=Category.IMPORT,
            severity=Severity.CRITICAL,
            problem=f"`{self.code(original_node)}` cannot import when the app is started as {start.describe() if start else 'documented'}",
            root_cause=f"{failure}: the module is `{fix.new}` from the folder the server starts in." if failure else
            f"The module is `{fix.new}` from the folder the server starts in: written as `{fix.old}` it does not "
            "import from there (or loads a second time, under another name), and its other imports are renamed.",
            old_code=self.code(original_node),
            new_code=self.code(new),
            explanation="Import the module by the name it has from the documented start folder.",
            defects=self.DEFECTS,
            fixed=safe or self.facts.unsafe_fixes,
            safe=safe,
            evidence=(f"started as {start.describe()}" if start else "")
            + (f"; {startup.disagreement}" if startup.disagreement else ""),
        ))
        return safe or self.facts.unsafe_fixes


class ImportRootsStartCommand(TextRule):
    # The part of FX020 that edits the start command, when that is smaller than rewriting the imports: the
    # line the command is written on (README, Dockerfile, Procfile, compose) gets the app the imports are
    # written for and, when the folder differs, `--app-dir` to it. One rule, one documentation: ImportRoots'.

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)

    def applies_to(self, path: str) -> bool:
        return _START_FILES.fullmatch(posixpath.basename(path)) is not None

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        startup = facts.startup
        new, old = startup.start_fix, startup.primary.start if startup.primary else None
        if new is None or old is None or not old.where or _edited(old, new) is None:
            return text, []
        # Every line of this file that starts the app the same way (a README's quick start and its section).
        same = [p.start for p in startup.predictions
                if (p.start.app, p.start.run_from) == (old.app, old.run_from) and p.start.where
                and p.start.where[0] == path and _edited(p.start, new) is not None]
        if not same:
            return text, []
        # Safe when the project documents this one start: another may have been written for the imports. A
        # `uvicorn.run()` under `__main__` is a way to run the same app, not a second start.
        documented = {(p.start.app, p.start.run_from, p.start.pythonpath) for p in startup.predictions
                      if not p.start.source.startswith("uvicorn.run()")}
        lines = text.splitlines(keepends=True)
        # The model keeps one start per app and folder: the file's other lines running the same command
        # (a quick start repeated further down) change with it, or the starts would disagree afterwards.
        known = {start.where[1] for start in same}
        for number, line in enumerate(lines, start=1):
            if number not in known and "uvicorn" in line and "cd " not in line and _rewrite_line(line, old, new):
                same.append(dataclasses.replace(old, command=line.strip(), where=(path, number)))
        findings = []
        for start in same:
            index = start.where[1] - 1
            changed = _rewrite_line(lines[index], start, new) if 0 <= index < len(lines) else None
            safe = changed is not None and len(documented) == 1
            made = changed is not None and (safe or facts.unsafe_fixes)
            findings.append(_start_finding(facts, start, new, fixed=made, safe=safe or changed is None,
                                           new_code=(changed or "").strip()))
            if made:
                lines[index] = changed
        return "".join(lines), findings

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        startup = facts.startup
        new, old = startup.start_fix, startup.primary.start if startup.primary else None
        if new is None or old is None:
            return []
        if old.where and self.applies_to(old.where[0]) and _edited(old, new) is not None:
            return []  # `fix` reads that line and reports
        where = old.where or ("README.md", 1)
        return [(where[0], _start_finding(facts, old, new, fixed=False, safe=True,
                                          new_code=f"{new.command}  # run from {new.run_from or '.'}/"))]


_START_FILES = re.compile(r"(?i)(?:README(?:\.\w+)?|Dockerfile(?:\.\w+)?|\w*\.Dockerfile|Procfile|"
                          r"(?:docker-)?compose(?:[.\w-]*)?\.ya?ml)")


def _edited(old, new) -> tuple[str, str] | None:
    """(the app as written, what replaces it) for a uvicorn start that can take the other app by `--app-dir`;
    None when the command is not one fixer rewrites (gunicorn, fastapi run, python main.py, an --app-dir
    already, another PYTHONPATH)."""
    if "uvicorn" not in old.command or "--app-dir" in old.command or old.pythonpath != new.pythonpath:
        return None
    if old.command.count(old.app) != 1:
        return None
    folder = posixpath.relpath(new.run_from or ".", old.run_from or ".")
    return old.app, new.app if folder == "." else f"{new.app} --app-dir {folder}"


_CD = re.compile(r"\bcd\s+([^\s&;|]+)\s*&&\s*")


def _rewrite_line(line: str, old, new) -> str | None:
    """The line with the app replaced, in a shell command or an exec-form (JSON array) CMD; None when the
    line does not hold the app token exactly once."""
    written, replacement = _edited(old, new) or ("", "")
    token = re.compile(rf"(?<![\w.:]){re.escape(written)}(?![\w.:])")
    if len(token.findall(line)) != 1:
        return None
    cd = _CD.search(line)
    if cd and posixpath.normpath(posixpath.join(new.run_from or ".", cd.group(1))) == posixpath.normpath(old.run_from or "."):
        # `cd app && uvicorn main:app`: the command runs from the folder above once the `cd` goes.
        return token.sub(new.app, line[:cd.start()] + line[cd.end():], count=1)
    quoted = re.search(rf"([\"']){re.escape(written)}\1", line)
    if quoted:
        q = quoted.group(1)
        return line.replace(quoted.group(0), ", ".join(f"{q}{part}{q}" for part in replacement.split(" ")), 1)
    return token.sub(replacement, line, count=1)


def _start_finding(facts: ProjectModel, old, new, fixed: bool, safe: bool, new_code: str) -> Finding:
    startup = facts.startup
    failure = next((f for f in startup.primary.failures if f.family in ("relative-import", "unresolved-import")),
                   None) if startup.primary else None
    # A `uvicorn.run()` block is started by running its file: as the module of the package, `python -m`.
    wanted = new.command if old.in_code else new.app
    return Finding(
        rule=RULE_ID,
        category=Category.ENTRYPOINT,
        severity=Severity.CRITICAL,
        problem=f"{old.source} starts the app as {old.describe()}: {startup.imports_kept} imports are written for "
                f"`{wanted}` from {new.run_from or '.'}/",
        root_cause="The package's imports (relative imports, or names from its top folder) need the app started as "
                   "part of its package; changing the one start command is smaller than rewriting them.",
        old_code=old.command,
        new_code=new_code,
        explanation=f"Start the app as `{wanted}` from {new.run_from or '.'}/ in {old.source}."
        + ("" if safe or not startup.disagreement else f" Not made: {startup.disagreement}."),
        fixed=fixed,
        defects=("APP-UVICORN-PATH",),
        line=old.where[1] if old.where else 1,
        safe=safe,
        evidence=f"walked from both starts: {startup.imports_kept} import lines fail from {old.run_from or '.'}/, "
                 f"none from {new.run_from or '.'}/" + (f"; {cite(facts, failure)}" if failure else ""),
    )


ImportRootsStartCommand.__doc__ = ImportRoots.__doc__
