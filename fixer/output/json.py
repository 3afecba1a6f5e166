"""`--output-format json`: every finding with its line and column range, its status, and the edits of its fix.

The shape is `JsonOutput` below (its JSON Schema: `fixer schema json`). Columns are 1-based Unicode code
points; an `end` is exclusive. `edits` is null when the file's edits are withheld (credentials)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fixer import __version__
from fixer.rules.findings import Category, Severity
from fixer import rule_doc_url
from fixer.output.diagnostics import Diagnostic, Diagnostics, Position
from fixer.model.urls import redact


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JsonPosition(_Model):
    line: int = Field(ge=1)
    column: int = Field(ge=1, description="1-based, in Unicode code points.")


class JsonEdit(_Model):
    location: JsonPosition
    end_location: JsonPosition = Field(description="Exclusive.")
    content: str = Field(description="What replaces location..end_location.")


class JsonFix(_Model):
    applicability: Literal["safe", "unsafe"]
    message: str
    edits: list[JsonEdit] | None = Field(description="null: withheld, as the file holds a credential.")


class JsonDiagnostic(_Model):
    code: str = Field(examples=["FX004"])
    name: str
    url: str
    severity: Severity
    category: Category
    status: Literal["fixed", "fixable", "unsafe", "manual", "note"] = Field(
        description="fixed: written by this run; fixable: `fixer apply` writes it; unsafe: `fixer apply "
        "--unsafe-fixes` writes it; manual: a person must act; note: not a defect, what fixer could not decide."
    )
    message: str
    filename: str
    location: JsonPosition
    end_location: JsonPosition
    defects: list[str]
    fix: JsonFix | None = Field(description="The edits written (fixed) or to write (fixable); null otherwise.")


class JsonSkipped(_Model):
    filename: str
    message: str


class JsonOutput(_Model):
    tool: Literal["fixer"] = "fixer"
    version: str
    applied: bool = Field(description="True when the fixes were written (apply), False for a dry run.")
    diagnostics: list[JsonDiagnostic]
    skipped: list[JsonSkipped] = Field(description="Files that could not be read or parsed: left as they are.")


def _position(position: Position) -> JsonPosition:
    return JsonPosition(line=position.line, column=position.column)


def _diagnostic(item: Diagnostic, names: dict[str, str]) -> JsonDiagnostic:
    finding = item.finding
    fix = None
    if item.status in ("fixed", "fixable") and (item.edits or item.withheld):
        fix = JsonFix(
            applicability="safe" if finding.safe else "unsafe",
            message=redact(finding.explanation),
            edits=None if item.withheld else [
                JsonEdit(location=_position(e.start), end_location=_position(e.end), content=e.content)
                for e in item.edits
            ],
        )
    return JsonDiagnostic(
        code=finding.rule,
        name=names.get(finding.rule, ""),
        url=rule_doc_url(finding.rule),
        severity=finding.severity,
        category=finding.category,
        status=item.status,
        message=item.message,
        filename=item.path,
        location=_position(item.start),
        end_location=_position(item.end),
        defects=list(finding.defects),
        fix=fix,
    )


def build(diagnostics: Diagnostics) -> JsonOutput:
    from fixer.rules.registry import all_rules

    names = {rule.id: rule.name for rule in all_rules()}
    return JsonOutput(
        version=__version__,
        applied=diagnostics.applied,
        diagnostics=[_diagnostic(item, names) for item in diagnostics.items],
        skipped=[JsonSkipped(filename=s.path, message=s.message) for s in diagnostics.skipped],
    )


def render(diagnostics: Diagnostics) -> str:
    return build(diagnostics).model_dump_json(indent=2) + "\n"


def schema() -> dict:
    return JsonOutput.model_json_schema()
