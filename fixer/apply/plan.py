"""A reviewed plan: `dry-run --plan FILE` records what each file holds and what fixer would write;
`apply --plan FILE` writes only if the run comes to exactly that.

The plan holds hashes (SHA-256 of the bytes read and of the bytes fixer would write) and the findings,
never a file's content: a plan can be shared and reviewed without showing a credential.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from fixer import __version__
from fixer.rules.findings import FileResult


class PlanError(Exception):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannedFinding(_Model):
    rule: str
    line: int | None
    problem: str


class PlannedFile(_Model):
    path: str
    sha256: str  # of the bytes fixer read
    new_sha256: str  # of the bytes fixer would write
    findings: list[PlannedFinding]


class Plan(_Model):
    fixer_plan: Literal[1]
    fixer_version: str
    files: list[PlannedFile]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_plan(path: Path, results: list[FileResult]) -> None:
    """The plan of what the patch shows: a change the patch leaves out (a secret git does not track) is not
    in it, so `apply --plan` never writes bytes nobody saw."""
    from fixer.apply.changes import shown
    from fixer.model.urls import redact

    plan = Plan(
        fixer_plan=1,
        fixer_version=__version__,
        files=[
            PlannedFile(
                path=result.path,
                sha256=_sha(result.old),
                new_sha256=_sha(shown(result)),
                findings=[PlannedFinding(rule=f.rule, line=f.line, problem=redact(f.problem)) for f in result.findings],
            )
            for result in results
            if result.changed and shown(result) != result.old
        ],
    )
    path.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_plan(path: Path) -> Plan:
    try:
        return Plan.model_validate_json(path.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the top level"
        raise PlanError(f"{path} is not a fixer plan ({where}: {first['msg'].lower()})") from None
    except OSError as error:
        raise PlanError(f"cannot read {path}: {error.strerror or error}") from None


def differences(plan: Plan, root: Path, results: list[FileResult]) -> list[str]:
    """Why this run is not the plan, one phrase per file; empty when applying it writes exactly the plan.

    A planned file that already holds its planned bytes is no difference (the plan was applied before).
    """
    planned = {entry.path: entry for entry in plan.files}
    changing = {result.path: result for result in results if result.changed}
    found = []
    for rel in sorted(planned.keys() | changing.keys()):
        entry, result = planned.get(rel), changing.get(rel)
        if entry is None:
            found.append(f"{rel} would change but is not in the plan")
            continue
        if result is not None:
            old, new = _sha(result.old), _sha(result.new)
        else:
            try:
                old = new = _sha((root / rel).read_bytes())
            except OSError:  # gone
                old = new = None
            if old == entry.new_sha256:
                continue
        if old != entry.sha256:
            found.append(f"{rel} changed since the plan")
        elif new != entry.new_sha256:
            found.append(f"{rel} would be fixed differently (other rules, options or fixer version than the plan's)")
    return found
