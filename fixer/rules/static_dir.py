"""FX040 static-dir: Create the folder a StaticFiles mount serves before mounting it, where the repository lacks it.

## What it does
Where the prediction of the documented start fails with `RuntimeError: Directory 'upload' does not exist` at a
module-level `StaticFiles(directory="upload")` (a literal folder, relative to the start folder, that the
repository does not hold: git keeps no empty folder, and an uploads folder is often in `.gitignore`), adds
`os.makedirs("upload", exist_ok=True)` on the line before the statement that builds the mount.

## Why is this bad?
Starlette's StaticFiles checks its directory when it is built, at import: on a fresh clone or deploy the
folder is missing and the server stops with `RuntimeError: Directory 'upload' does not exist`. The folder exists
only on the machine where files were uploaded.

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
Safe when the prediction of the documented start fails on that mount: the folder is created where StaticFiles
looks for it (the working directory), and where the folder exists `exist_ok=True` changes nothing. Not made
for a folder given by a variable or a setting (which value the deploy sets is not known), for `check_dir=False`,
or for a mount inside a function.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.evidence import cite
from fixer.rules.base import FixerCodemod


def _missing(model: ProjectModel, path: str) -> dict[str, object]:
    """Folder -> the predicted failure, for the StaticFiles folders missing at `path`'s module level."""
    prediction = model.startup.primary
    out = {}
    for failure in prediction.failures if prediction is not None else ():
        if failure.family == "static-dir" and failure.path == path:
            match = re.fullmatch(r"Directory '(.+)' does not exist", failure.message)
            if match:
                out.setdefault(match.group(1), failure)
    return out


class StaticDir(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = "FX040"
    RULE_NAME: ClassVar[str] = "static-dir"
    DEFECTS: ClassVar[tuple[str, ...]] = ()
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bStaticFiles\s*\(")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        return bool(_missing(model, path))

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        missing = _missing(self.facts, (self.context.filename or "").replace("\\", "/"))
        if not missing:
            return tree  # a rebuilt module prints differently from its source in corners of LibCST's printer
        body: list[cst.BaseStatement] = []
        for statement in tree.body:
            folder = self._folder(statement, missing) if isinstance(statement, cst.SimpleStatementLine) else None
            if folder is not None:
                made = cst.parse_statement(f"os.makedirs({folder.value}, exist_ok=True)\n")
                made = made.with_changes(leading_lines=statement.leading_lines)
                body += [made, statement.with_changes(leading_lines=())]
                AddImportsVisitor.add_needed_import(self.context, "os")
                self._report(statement, made, folder.evaluated_value, missing[folder.evaluated_value])
                missing.pop(folder.evaluated_value)
            else:
                body.append(statement)
        return tree.with_changes(body=body) if len(body) != len(tree.body) else tree

    @staticmethod
    def _folder(statement: cst.SimpleStatementLine, missing: dict[str, object]) -> cst.SimpleString | None:
        """The literal folder of a StaticFiles call in `statement` that the prediction finds missing."""
        found: list[cst.SimpleString] = []

        class Calls(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(node.func, "value", "")
                if name != "StaticFiles":
                    return
                named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
                value = named.get("directory", node.args[0].value if node.args and node.args[0].keyword is None else None)
                if isinstance(value, cst.SimpleString) and value.evaluated_value in missing and "check_dir" not in named:
                    found.append(value)

        statement.visit(Calls())
        return found[0] if found else None

    def _report(self, old: cst.CSTNode, made: cst.CSTNode, folder: str, failure) -> None:
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.CONFIG,
            severity=Severity.CRITICAL,
            problem=f"StaticFiles serves '{folder}', which the repository does not hold: the start stops at the mount",
            root_cause=f"Starlette checks the folder when StaticFiles is built: `RuntimeError: Directory '{folder}' does "
                       "not exist` on a fresh clone or deploy (git keeps no empty folder).",
            old_code=self.code(old).strip(),
            new_code=self.code(made).strip() + "\n" + self.code(old).strip(),
            explanation="The folder is created before the mount; where it exists, nothing changes.",
            evidence=cite(self.facts, failure),
        ))
