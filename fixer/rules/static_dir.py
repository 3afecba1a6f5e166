"""FX040 static-dir: Create the folder a StaticFiles mount serves, or a log file handler writes in, before it is built, where the repository lacks it.

## What it does
Where the prediction of the documented start fails with `RuntimeError: Directory 'upload' does not exist` at a
module-level `StaticFiles(directory="upload")` (a literal folder, relative to the start folder, that the
repository does not hold: git keeps no empty folder, and an uploads folder is often in `.gitignore`), adds
`os.makedirs("upload", exist_ok=True)` on the line before the statement that builds the mount. Likewise where it
fails with `FileNotFoundError: [Errno 2] No such file or directory: '.../logs/app.log'` at a logging file handler
(`FileHandler`, `RotatingFileHandler`, ...) built as the app starts (at module level or in a function the start
runs), whose file is a literal or a module-level constant: `os.makedirs("logs", exist_ok=True)` goes before it.

## Why is this bad?
Starlette's StaticFiles checks its directory when it is built, at import, and a file handler opens its file when
built: on a fresh clone or deploy the folder is missing and the server stops with `RuntimeError: Directory
'upload' does not exist` or `FileNotFoundError`. The folder exists only on the machine where files were uploaded
or logs written.

## Example
```python
app.mount("/upload", StaticFiles(directory="upload"), name="upload")
```

## Use instead
```python
os.makedirs("upload", exist_ok=True)
app.mount("/upload", StaticFiles(directory="upload"), name="upload")
```

## Fix safety
Safe when the prediction of the documented start fails on that mount or handler: the folder is created where
StaticFiles or the handler looks for it (the working directory), and where the folder exists `exist_ok=True`
changes nothing. Not made for a folder given by a setting or a variable assigned more than once (which value
the deploy sets is not known), for `check_dir=False`, for a mount inside a function, or for a handler built with
`delay=True` (it opens the file at the first record).
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import PositionProvider

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.evidence import cite
from fixer.rules.base import FixerCodemod


def _missing(model: ProjectModel, path: str, family: str = "static-dir") -> dict[str, object]:
    """Folder -> the predicted failure, for the StaticFiles folders (or with `family` "log-dir", the log file
    folders) missing at `path`."""
    prediction = model.startup.primary
    out = {}
    for failure in prediction.failures if prediction is not None else ():
        if failure.family == family == "static-dir" and failure.path == path:
            match = re.fullmatch(r"Directory '(.+)' does not exist", failure.message)
        elif failure.family == family == "log-dir" and failure.path == path:
            match = re.match(r"the log file's folder (.+)/ is not in the tree", failure.detail)
        else:
            continue
        if match:
            out.setdefault(match.group(1), failure)
    return out


def _constants(tree: cst.Module) -> dict[str, str]:
    """The module-level names bound once, to a string literal (`LOG_FILE = "logs/app.log"`)."""
    seen: dict[str, list[str | None]] = {}
    for statement in tree.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                value = small.value.evaluated_value if isinstance(small.value, cst.SimpleString) else None
                for target in targets:
                    if isinstance(target, cst.Name):
                        seen.setdefault(target.value, []).append(value if isinstance(value, str) else None)
    return {name: values[0] for name, values in seen.items() if len(values) == 1 and values[0] is not None}


def _lines(tree: cst.Module) -> dict[cst.CSTNode, tuple[int, int]]:
    """Each simple statement's first and last line: the one on the failure's line gets the folder, as another
    handler or mount of that folder (in a function never called) may not run."""
    positions = cst.MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: (span.start.line, span.end.line) for node, span in positions.items()
            if isinstance(node, cst.SimpleStatementLine)}


def _spans(span: tuple[int, int] | None, failure) -> bool:
    """Whether a statement spanning those lines is the one the predicted failure stops at."""
    return span is not None and span[0] <= failure.line <= span[1]


class StaticDir(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = "FX040"
    RULE_NAME: ClassVar[str] = "static-dir"
    DEFECTS: ClassVar[tuple[str, ...]] = ()
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bStaticFiles\s*\(|FileHandler\s*\(")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        return bool(_missing(model, path) or _missing(model, path, "log-dir"))

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        path = (self.context.filename or "").replace("\\", "/")
        missing, logs = _missing(self.facts, path), _missing(self.facts, path, "log-dir")
        if not missing and not logs:
            return tree  # a rebuilt module prints differently from its source in corners of LibCST's printer
        lines = _lines(tree)  # of the source the prediction read; the mounts' edit keeps every other statement
        body: list[cst.BaseStatement] = []
        for statement in tree.body:
            folder = self._folder(statement, missing, lines.get(statement)) \
                if isinstance(statement, cst.SimpleStatementLine) else None
            if folder is not None:
                made = cst.parse_statement(f"os.makedirs({folder.value}, exist_ok=True)\n")
                made = made.with_changes(leading_lines=statement.leading_lines)
                body += [made, statement.with_changes(leading_lines=())]
                AddImportsVisitor.add_needed_import(self.context, "os")
                name = folder.evaluated_value
                self.report_made(
                    statement, made, missing.pop(name),
                    f"StaticFiles serves '{name}', which the repository does not hold: the start stops at the mount",
                    f"Starlette checks the folder when StaticFiles is built: `RuntimeError: Directory '{name}' does "
                    "not exist` on a fresh clone or deploy (git keeps no empty folder).", "mount")
            else:
                body.append(statement)
        tree = tree.with_changes(body=body) if len(body) != len(tree.body) else tree
        return tree.visit(_LogFolders(self, logs, _constants(tree), lines)) if logs else tree

    @staticmethod
    def _folder(statement: cst.SimpleStatementLine, missing: dict[str, object],
                span: tuple[int, int] | None) -> cst.SimpleString | None:
        """The literal folder of a StaticFiles call in `statement` that the prediction finds missing."""
        found: list[cst.SimpleString] = []

        class Calls(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(node.func, "value", "")
                if name != "StaticFiles":
                    return
                named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
                value = named.get("directory", node.args[0].value if node.args and node.args[0].keyword is None else None)
                if isinstance(value, cst.SimpleString) and value.evaluated_value in missing and "check_dir" not in named \
                        and _spans(span, missing[value.evaluated_value]):
                    found.append(value)

        statement.visit(Calls())
        return found[0] if found else None

    def report_made(self, old: cst.CSTNode, made: cst.CSTNode, failure, problem: str, root_cause: str, user: str) -> None:
        """The finding of a folder created before the statement (`user`: the mount, the handler) that needs it."""
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.CONFIG,
            severity=Severity.CRITICAL,
            problem=problem,
            root_cause=root_cause,
            old_code=self.code(old).strip(),
            new_code=self.code(made).strip() + "\n" + self.code(old).strip(),
            explanation=f"The folder is created before the {user}; where it exists, nothing changes.",
            evidence=cite(self.facts, failure),
        ))


_HANDLERS = frozenset({"FileHandler", "RotatingFileHandler", "TimedRotatingFileHandler", "WatchedFileHandler"})


class _LogFolders(cst.CSTTransformer):
    """Puts `os.makedirs(folder, exist_ok=True)` before the statement that builds a file handler whose file lies
    in a folder the prediction finds missing, in whatever body holds it (a function the start runs)."""

    def __init__(self, rule: StaticDir, missing: dict[str, object], constants: dict[str, str],
                 lines: dict[cst.CSTNode, tuple[int, int]]) -> None:
        super().__init__()
        self.rule, self.missing, self.constants, self.lines = rule, missing, constants, lines

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._body(original.body, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._body(original.body, updated.body))

    def _body(self, originals, body):
        out = []
        for original, statement in zip(originals, body):
            folder = self._folder(statement, self.lines.get(original)) \
                if isinstance(statement, cst.SimpleStatementLine) else None
            if folder is None:
                out.append(statement)
                continue
            made = cst.parse_statement(f"os.makedirs({json.dumps(folder)}, exist_ok=True)\n")
            out += [made.with_changes(leading_lines=statement.leading_lines), statement.with_changes(leading_lines=())]
            AddImportsVisitor.add_needed_import(self.rule.context, "os")
            self.rule.report_made(
                statement, made, self.missing.pop(folder),
                f"A log file handler opens a file in '{folder}/', which the repository does not hold: the start stops there",
                "A logging file handler opens its file when it is built: `FileNotFoundError: [Errno 2] No such "
                "file or directory` on a fresh clone or deploy (git keeps no empty folder, and logs are ignored).",
                "handler")
        return tuple(out)

    def _folder(self, statement: cst.SimpleStatementLine, span: tuple[int, int] | None) -> str | None:
        found: list[str] = []
        missing, constants = self.missing, self.constants

        class Calls(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(node.func, "value", "")
                named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
                if name not in _HANDLERS or "delay" in named:
                    return
                value = named.get("filename", node.args[0].value if node.args and node.args[0].keyword is None else None)
                text = value.evaluated_value if isinstance(value, cst.SimpleString) else \
                    constants.get(value.value) if isinstance(value, cst.Name) else None
                folder = posixpath.dirname(text) if isinstance(text, str) else None
                if folder in missing and _spans(span, missing[folder]):
                    found.append(folder)

        statement.visit(Calls())
        return found[0] if found else None
