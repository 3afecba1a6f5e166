"""FX021 pydantic-settings: Import BaseSettings from pydantic-settings when pydantic 2 is what installs.

## What it does
Where pydantic 2 installs (every install route: the lock, a fresh install), rewrites
`from pydantic import BaseSettings` (and `from pydantic.env_settings import BaseSettings`) to
`from pydantic_settings import BaseSettings`; in each class built on it, turns `class Config:` into
`model_config = SettingsConfigDict(...)` when every key maps (`env_file`, `env_file_encoding`, `env_prefix`,
`case_sensitive`, `extra` with `Extra.ignore` as `"ignore"`, pydantic's renamed keys such as `orm_mode` ->
`from_attributes`), adds `extra="ignore"` beside an `env_file` (pydantic 1 never read `.env` keys the class
lacks; pydantic-settings 2 refuses them), and turns `Field(..., env="NAME")` into
`Field(..., validation_alias="NAME")`. Adds `pydantic-settings` to the main dependency file. `@validator` and
the rest of pydantic 1's API still run on pydantic 2 (deprecated): they are left to bump-pydantic.

## Why is this bad?
The server stops at import (DEP-BASESETTINGS): `PydanticImportError: `BaseSettings` has been moved to the
`pydantic-settings` package.` Moved by hand without `extra="ignore"`, a `.env` with keys the class lacks stops
it next (DEP-SETTINGS-EXTRA): `ValidationError: ... Extra inputs are not permitted`; and pydantic 2 ignores
`Field(env=...)`, so the field silently reads another variable.

## Example
```python
from pydantic import BaseSettings, Extra


class Settings(BaseSettings):
    database_url: str

    class Config:
        env_file = ".env"
        extra = Extra.ignore
```

## Use instead
```python
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    database_url: str

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
```

## Fix safety
Safe when every install route gives pydantic 2 (the exports tables say `BaseSettings` moved there). Unsafe
when only some routes do (a lock with pydantic 1 beside a requirements file allowing 2), or when the project
declares no pydantic at all. A pydantic 1 project is left alone (VER-PYDANTIC1). A `class Config` holding a key
that does not map, or a method, is kept as it is (pydantic-settings 2 still reads it, with a deprecation
warning) and reported; an import inside `try:` (a compatibility shim) is left alone, but where the shim's
fallback is what runs (`try: from pydantic_settings import BaseSettings except ImportError: from pydantic import
BaseSettings`, pydantic-settings not installed) pydantic 2 raises in the fallback, and the dependency line is added.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.rules.base import FixerCodemod, TextRule
from fixer.rules.dependency_edit import Change, edit, is_main_file, target_file
from fixer.rules.tree_walk import dotted

NEW_MODULE = "pydantic_settings"
_OLD_MODULES = frozenset({"pydantic", "pydantic.env_settings"})
# Config keys with the same meaning in pydantic 2 / pydantic-settings 2 (valid on every 2.x release).
_SAME_KEYS = frozenset(
    {
        "env_prefix", "env_file", "env_file_encoding", "env_nested_delimiter", "case_sensitive", "secrets_dir",
        "extra", "arbitrary_types_allowed", "validate_assignment", "use_enum_values", "frozen", "title",
        "json_encoders", "alias_generator", "str_strip_whitespace", "str_to_lower", "str_to_upper",
        "str_min_length", "str_max_length", "validate_default", "from_attributes", "populate_by_name",
    }
)
# pydantic's migration guide: renamed keys, with names that exist on every pydantic 2 release.
_RENAMED_KEYS = {
    "orm_mode": "from_attributes",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "min_anystr_length": "str_min_length",
    "max_anystr_length": "str_max_length",
    "allow_population_by_field_name": "populate_by_name",
    "keep_untouched": "ignored_types",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
}
_ERROR = (
    "PydanticImportError: `BaseSettings` has been moved to the `pydantic-settings` package. See "
    "https://docs.pydantic.dev/2.0/migration/#basesettings-has-moved-to-pydantic-settings for more details."
)


def judge(facts: ProjectModel) -> tuple[bool, str] | None:
    """(safe, evidence) when pydantic 2 installs on some route (the exports tables record that BaseSettings
    moved out of it); None when the import is right as it is."""
    from fixer import tables

    versions = facts.versions
    routes = [route["pydantic"] for route in (versions.effective, *versions.alternatives) if route.get("pydantic")]
    installing = routes or [str(v) for v in tables.releases("pydantic")[-1:]]
    moved = [v for v in installing if tables.moved("pydantic", v, "pydantic", "BaseSettings")]
    if not moved:
        return None
    evidence = versions.judged_against("pydantic") or "no dependency file names pydantic: a fresh install gets pydantic 2"
    return bool(routes) and len(moved) == len(installing), evidence


class PydanticSettings(FixerCodemod):
    """Import BaseSettings from pydantic-settings when pydantic 2 is what installs."""

    RULE_ID: ClassVar[str] = "FX021"
    RULE_NAME: ClassVar[str] = "pydantic-settings"
    DEFECTS: ClassVar[tuple[str, ...]] = ("DEP-BASESETTINGS", "DEP-SETTINGS-EXTRA")
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bBaseSettings\b")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        verdict = judge(self.facts)
        if verdict is None:
            return tree
        self.safe, self.evidence = verdict
        self.write = self.safe or self.facts.unsafe_fixes
        self.base_names: set[str] = set()  # local names of pydantic's BaseSettings
        code = tree.code
        self.validators = "@validator(" in code or "@root_validator(" in code
        return super().transform_module_impl(tree)

    def enters(self, statement: cst.BaseStatement) -> bool:
        return not isinstance(statement, cst.Try)  # `try: from pydantic import BaseSettings except ImportError:` is a shim

    # -- the import ---------------------------------------------------------------------------------

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        node = updated_node.body[0]
        if node.relative or dotted(node.module) not in _OLD_MODULES or isinstance(node.names, cst.ImportStar):
            return updated_node
        moved = [a for a in node.names if isinstance(a.name, cst.Name) and a.name.value == "BaseSettings"]
        if not moved:
            return updated_node
        kept = [a for a in node.names if a not in moved]
        for alias in moved:
            asname = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else None
            self.base_names.add(asname or "BaseSettings")
        new_import = cst.ImportFrom(
            module=cst.Name(NEW_MODULE), names=[cst.ImportAlias(name=cst.Name("BaseSettings"), asname=moved[0].asname)]
        )
        statements: list[cst.BaseStatement] = []
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            statements.append(updated_node.with_changes(body=[node.with_changes(names=kept)]))
        statements.append(updated_node.with_changes(body=[new_import], leading_lines=() if statements else updated_node.leading_lines))
        self._report(
            self.code(original_node).strip(),
            "\n".join(self.code(s).strip() for s in statements),
            "`from pydantic import BaseSettings` fails on pydantic 2",
            f"`{_ERROR}`",
            "BaseSettings now comes from pydantic-settings (added to the dependency file by this rule)."
            + (
                " `@validator` / `@root_validator` here still run on pydantic 2 (deprecated): bump-pydantic moves them "
                "to `@field_validator` / `@model_validator`."
                if self.validators
                else ""
            ),
            ("DEP-BASESETTINGS",),
        )
        if not self.write:
            return updated_node
        return cst.FlattenSentinel(statements)

    # -- the settings classes -----------------------------------------------------------------------

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        if not self.base_names or not any(dotted(arg.value) in self.base_names for arg in updated_node.bases):
            return updated_node
        body = list(updated_node.body.body)
        changed = False
        for i, statement in enumerate(body):
            if isinstance(statement, cst.ClassDef) and statement.name.value == "Config":
                converted = self._config(statement)
                if converted is not None:
                    body[i] = converted
                    changed = True
            elif isinstance(statement, cst.SimpleStatementLine):
                renamed = self._field_env(statement)
                if renamed is not statement:
                    body[i] = renamed
                    changed = True
        if not changed or not self.write:
            return updated_node
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def _config(self, config: cst.ClassDef) -> cst.SimpleStatementLine | None:
        pairs: list[tuple[str, cst.BaseExpression]] = []
        unmapped: list[str] = []
        for statement in config.body.body:
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
            if isinstance(small, cst.Pass) or (isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)):
                continue
            target = value = None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            key = target.value if isinstance(target, cst.Name) else None
            if key is None or value is None or (key not in _SAME_KEYS and key not in _RENAMED_KEYS):
                unmapped.append(self.code(statement).strip().splitlines()[0])
                continue
            if key == "extra":
                member = dotted(value)
                if member and member.split(".")[-2:-1] == ["Extra"]:
                    value = cst.SimpleString(f'"{member.rsplit(".", 1)[1]}"')
                    if self.write:
                        RemoveImportsVisitor.remove_unused_import(self.context, "pydantic", "Extra")
            pairs.append((_RENAMED_KEYS.get(key, key), value))
        if unmapped:
            self._report(
                self.code(config).strip(), "",
                "`class Config` of a settings class holds what SettingsConfigDict has no key for",
                "pydantic-settings 2 still reads a `class Config` (with a deprecation warning).",
                f"Kept as it is: {'; '.join(unmapped)} has no SettingsConfigDict key. Move it by hand (see bump-pydantic).",
                (),
                fixed=False,
            )
            return None
        keys = {k for k, _ in pairs}
        if "env_file" in keys and "extra" not in keys:
            pairs.append(("extra", cst.SimpleString('"ignore"')))
        call = cst.Call(
            func=cst.Name("SettingsConfigDict"),
            args=[
                cst.Arg(keyword=cst.Name(k), value=v, equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
                for k, v in pairs
            ],
        )
        if len(pairs) > 1:
            call = call.with_changes(
                args=[a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in call.args[:-1]] + [call.args[-1]]
            )
        new = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name("model_config"))], value=call)],
            leading_lines=config.leading_lines,
        )
        if self.write:
            AddImportsVisitor.add_needed_import(self.context, NEW_MODULE, "SettingsConfigDict")
        added = " extra=\"ignore\" keeps pydantic 1's reading of `.env` (keys the class lacks were skipped)." if "env_file" in keys and "extra" not in keys else ""
        self._report(
            self.code(config).strip(),
            self.code(new).strip(),
            "`class Config` in a pydantic-settings 2 class: pydantic 2 configures models with `model_config`",
            "pydantic-settings 2 reads `class Config` only as a deprecated fallback; unknown `.env` keys are refused "
            "by default (`ValidationError: ... Extra inputs are not permitted`, DEP-SETTINGS-EXTRA).",
            "The same settings as `model_config = SettingsConfigDict(...)`." + added,
            ("DEP-SETTINGS-EXTRA",) if added else (),
        )
        return new

    def _field_env(self, statement: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        small = statement.body[0] if len(statement.body) == 1 else None
        if not isinstance(small, (cst.AnnAssign, cst.Assign)) or not isinstance(small.value, cst.Call):
            return statement
        call = small.value
        if dotted(call.func) not in ("Field", "pydantic.Field"):
            return statement
        args = list(call.args)
        for i, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value == "env" and isinstance(arg.value, cst.SimpleString):
                args[i] = arg.with_changes(keyword=cst.Name("validation_alias"))
                new = statement.with_changes(body=[small.with_changes(value=call.with_changes(args=args))])
                self._report(
                    self.code(statement).strip(),
                    self.code(new).strip(),
                    "`Field(env=...)` is pydantic 1's: pydantic 2 ignores it",
                    "pydantic-settings 2 reads a field from its name (or its validation_alias); `env=` only raises a "
                    "deprecation warning, so the field silently reads another variable.",
                    "`env=` became `validation_alias=`, the name pydantic-settings 2 reads the variable under.",
                    (),
                )
                return new
        return statement

    def _report(self, old: str, new: str, problem: str, root_cause: str, explanation: str, defects, fixed: bool = True) -> None:
        self.report(
            Finding(
                rule=self.RULE_ID,
                category=Category.IMPORT,
                severity=Severity.CRITICAL,
                problem=problem,
                root_cause=root_cause,
                old_code=old,
                new_code=new,
                explanation=explanation,
                fixed=fixed and self.write,
                defects=defects,
                safe=self.safe,
                evidence=self.evidence,
            )
        )


class PydanticSettingsDependency(TextRule):
    """Import BaseSettings from pydantic-settings when pydantic 2 is what installs."""

    RULE_ID: ClassVar[str] = "FX021"
    RULE_NAME: ClassVar[str] = "pydantic-settings"
    DEFECTS: ClassVar[tuple[str, ...]] = ("DEP-BASESETTINGS",)

    def applies_to(self, path: str) -> bool:
        return is_main_file(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        from fixer.model.evidence import cite, predicted

        # A shim (`try: from pydantic_settings ... except ImportError: from pydantic import BaseSettings`) is
        # guarded, but the prediction runs its fallback: pydantic 2 raises there.
        failure = predicted(facts, self.RULE_ID, match=lambda f: "BaseSettings" in f.message)
        needs = [
            n for n in facts.needs
            if n.dist == "pydantic-settings" and (not n.guarded or failure is not None and n.path == failure.path)
            and target_file(facts.versions.files, n.path) == path
        ]
        verdict = judge(facts)
        if not needs or verdict is None or facts.installed.has("pydantic-settings"):
            return text, []
        from fixer.rules.missing_dependency import floor

        safe, evidence = verdict
        if failure is not None:
            evidence = f"{evidence}; {cite(facts, failure)}"

        def make(old: str, new: str, line: int | None, fixed: bool) -> Finding:
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL,
                problem=f"pydantic-settings is not installed, but {needs[0].path} needs its BaseSettings",
                root_cause=f"pydantic 2 moved BaseSettings to the pydantic-settings package: `{_ERROR}`",
                old_code=old,
                new_code=new,
                explanation=f"Added `{new.strip()}`.",
                fixed=fixed,
                defects=self.DEFECTS,
                line=line,
                safe=safe,
                evidence=f"{needs[0].shown}; {evidence}",
            )

        change = Change("add", "pydantic-settings", floor("pydantic-settings", facts), make, after="pydantic", write=safe or facts.unsafe_fixes)
        return edit(path, text, [change])
