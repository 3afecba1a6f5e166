"""The audit report: the seed plan's data model (section 1.1) filled from what the rules found.

`build_report` turns `FileResult`s into an `AuditReport`; `report_json` renders it; `report_schema` is its
JSON Schema (for `fixer schema`). Every string in a report has been through `fixer.model.urls.redact`, so a
database URL quoted in a finding never leaks its password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fixer.rules.findings import Category, FileResult, Finding, Severity

# The seed plan's fix order (section 2.7): the driver, then the imports, the session, the URL, the app.
SEVERITY_ORDER: tuple[Severity, ...] = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
CATEGORY_ORDER: tuple[Category, ...] = (
    Category.DEPENDENCY,
    Category.IMPORT,
    Category.DATABASE,
    Category.CONFIG,
    Category.ENTRYPOINT,
)

# The seed chain: the async driver and the async URL only work together.
DRIVER_DEFECTS = frozenset({"DEP-DRIVER"})
URL_DEFECT_PREFIX = "URL-"
URL_RULE = "FX004"  # the rule that adds the runtime DATABASE_URL normaliser

_IMPACT = {
    Severity.CRITICAL: "Blocks startup: the server does not start, or its first request fails, until this is fixed.",
    Severity.HIGH: "Breaks requests at run time until this is fixed.",
    Severity.MEDIUM: "Fails or misbehaves in some cases until this is fixed.",
    Severity.LOW: "Minor: the code keeps working but stays inconsistent until this is fixed.",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeFix(_Model):
    file_path: str
    old_code: str
    new_code: str
    explanation: str


class Issue(_Model):
    id: str = Field(pattern=r"^[A-Z]+-[0-9]{3}$", examples=["IMPORT-001"])
    severity: Severity
    category: Category
    file_path: str = Field(description="Relative to the scanned root, POSIX separators.")
    # Left out of the JSON when unknown: the seed plan's Issue schema says integer, not null.
    line_number: int | None = Field(default=None, ge=1, exclude_if=lambda value: value is None)
    problem_description: str = Field(min_length=10)
    root_cause: str = Field(min_length=10)
    exact_fix: CodeFix
    related_issues: list[str] = Field(default_factory=list)
    rule: str = Field(description="The fixer rule that found it, e.g. FX001.")
    fixed: bool = Field(description="True when this run wrote exact_fix: never in a dry run, which writes nothing.")
    fix_available: bool = Field(
        default=True,
        description="`fixer apply` writes exact_fix (an unsafe one with --unsafe-fixes). False: a person must apply it.",
    )
    fix_safety: Literal["safe", "unsafe"] = Field(
        default="safe",
        description="unsafe: the project does not show the failing input; written only with --unsafe-fixes.",
    )
    evidence: str = Field(default="", description="Where the project shows the failing input; versions judged against.")
    # Left out of the JSON when False, as every defect is: the goldens of projects without notes stay as they were.
    note: bool = Field(default=False, exclude_if=lambda value: not value,
                       description="Not a defect: what fixer could not decide, for a person to check.")


class AuditSummary(_Model):
    total_files_scanned: int = Field(ge=0)
    total_issues_found: int = Field(ge=0)
    critical_issues: int = Field(ge=0)
    warning_issues: int = Field(ge=0, description="HIGH + MEDIUM + LOW.")
    audit_duration_seconds: float = Field(ge=0)


class Recommendation(_Model):
    priority: int = Field(ge=1)
    description: str
    impact: str


class ProbeResult(_Model):
    path: str = Field(examples=["/health"])
    status: int | None = Field(description="The HTTP status, or null when the server did not answer.")
    seconds: float = Field(ge=0)
    ok: bool = Field(description="True for a 2xx or 3xx answer.")


class RouteResult(_Model):
    """One call of one of the app's routes (from its OpenAPI schema) after it started."""

    method: str = Field(examples=["POST"])
    path: str = Field(description="The schema's path template.", examples=["/tasks/{task_id}"])
    status: int | None = Field(description="The HTTP status, or null when the server did not answer.")
    ok: bool = Field(description="False for a 5xx or no answer.")
    note: str = Field(default="", description="e.g. sign-up, log-in.")
    error: str | None = Field(default=None, description="For a failure: the server's exception line.")
    error_location: str | None = Field(default=None, description="FILE:LINE of the innermost frame in the backend.")
    last_frame: str | None = Field(default=None, description="The traceback's last frame: where it was raised.")
    rules: list[str] = Field(default_factory=list, description="fixer rules that fix the failure.")


class DefectMatch(_Model):
    defect: str = Field(description="Defect-catalogue ID (e.g. ENG-IMPORT), or a generic cause (e.g. DB-CONNECT).")
    title: str
    fix: str = Field(description="What to do next.")
    rules: list[str] = Field(default_factory=list, description="fixer rules that fix it: `fixer apply` does it.")


VerificationStatus = Literal[
    "passed",
    "install-failed",  # pip could not install the requirements (or the interpreter is unusable)
    "startup-failed",  # the server exited before it was healthy
    "startup-timeout",  # no "Application startup complete" / healthy probe within the timeout: killed
    "probe-failed",  # the server started but a probe did not answer 2xx/3xx
    "too-slow",  # healthy, but later than the startup budget
    "route-failed",  # healthy, but a route of its OpenAPI schema answered 5xx (or nothing) at its first call
]


class Verification(_Model):
    """`fixer verify`: the backend booted for real against PostgreSQL, and what happened."""

    passed: bool
    status: VerificationStatus
    entrypoint: str | None = Field(description="MODULE:ATTR given to uvicorn.", examples=["src.main:app"])
    entrypoint_source: str | None = Field(description="Where the entrypoint came from (Procfile, default, ...).")
    app_dir: str | None = Field(description="uvicorn --app-dir, relative to the backend folder.")
    python: str | None = Field(description="The interpreter that ran the backend.")
    python_version: str | None
    environment: Literal["virtualenv", "interpreter"] = Field(
        description="A virtualenv fixer built from the requirements, or the user's own interpreter (--python)."
    )
    database: Literal["pgserver wheel", "PATH binaries", "database-url"] = Field(
        description="Embedded throwaway PostgreSQL (from the pgserver wheel or binaries on PATH), or --database-url."
    )
    database_version: str | None
    database_url: str = Field(description="The DATABASE_URL the app got, password masked.")
    startup_seconds: float | None = Field(default=None, ge=0, description='Until "Application startup complete".')
    time_to_healthy_seconds: float | None = Field(default=None, ge=0, description="Until the first probe answered.")
    max_startup_seconds: float = Field(ge=0)
    probes: list[ProbeResult] = Field(default_factory=list)
    routes: list[RouteResult] = Field(
        default_factory=list, description="Each route of the app's OpenAPI schema, called once after the probes."
    )
    error: str | None = Field(default=None, description="The first error, one line.")
    predicted_error: str | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="The first error fixer's static startup walk predicted ('none': imports cleanly).",
    )
    error_location: str | None = Field(default=None, description="FILE:LINE of the innermost frame in the backend.")
    traceback: str | None = Field(default=None, description="The first traceback in the log (or its last lines).")
    diagnosis: list[DefectMatch] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    duration_seconds: float = Field(ge=0)


class AuditReport(_Model):
    summary: AuditSummary
    issues: list[Issue]
    recommendations: list[Recommendation]
    # Only `fixer verify` / `fixer apply --verify` fill it; left out of the JSON otherwise.
    verification: Verification | None = Field(default=None, exclude_if=lambda value: value is None)


def _sort_key(item: tuple[str, Finding]) -> tuple[int, int, str, int, str]:
    path, finding = item
    # A finding without a line is about the whole file: it comes before the file's line-level ones.
    return (
        SEVERITY_ORDER.index(finding.severity),
        CATEGORY_ORDER.index(finding.category),
        path,
        finding.line or 0,
        finding.rule,
    )


def _explanation(finding: Finding) -> str:
    if not finding.defects:
        return finding.explanation
    return f"{finding.explanation} (defect-catalogue: {', '.join(finding.defects)})"


def _related(findings: list[Finding], ids: list[str]) -> list[list[str]]:
    """For each issue, the ids of the others sharing a defect ID, plus the driver <-> URL chain; in report order."""
    startup = sorted((f.startup_order, i) for i, f in enumerate(findings) if f.startup_order is not None)
    # Each predicted startup failure hides the next one: related to the one before and the one after it.
    neighbours: dict[int, set[int]] = {}
    for (_, a), (_, b) in zip(startup, startup[1:]):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    is_driver = [bool(DRIVER_DEFECTS.intersection(f.defects)) for f in findings]
    is_url = [any(d.startswith(URL_DEFECT_PREFIX) for d in f.defects) for f in findings]
    related: list[list[str]] = []
    for i, finding in enumerate(findings):
        mine = set(finding.defects)
        related.append(
            [
                ids[j]
                for j, other in enumerate(findings)
                if j != i
                and (
                    mine.intersection(other.defects)
                    or (is_driver[i] and is_url[j])
                    or (is_url[i] and is_driver[j])
                    or j in neighbours.get(i, ())
                )
            ]
        )
    return related


def _startup_order(issues: list[Issue], findings: list[Finding]) -> tuple[str, str] | None:
    """The predicted startup failures as one fix order, a failure that masks another first."""
    ordered = sorted(
        ((f.startup_order, issue) for f, issue in zip(findings, issues) if f.startup_order is not None),
        key=lambda pair: pair[0],
    )
    if not ordered:
        return None
    steps = "; ".join(
        f"{n}. {issue.id} ({issue.exact_fix.explanation.split(' (defect-catalogue')[0].rstrip('.')})"
        for n, (_, issue) in enumerate(ordered, start=1)
    )
    return (
        f"Fix the startup failures in this order (each hides the next until it is fixed): {steps}.",
        _IMPACT[Severity.CRITICAL],
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _pending(issue: Issue) -> bool:
    """A safe fix a dry run did not write: `fixer apply` writes it."""
    return issue.fix_available and issue.fix_safety == "safe" and not issue.fixed


def _recommendations(
    issues: list[Issue], errors: list[FileResult], findings: list[Finding] | None = None
) -> list[tuple[str, str]]:
    recs: list[tuple[str, str]] = []
    order = _startup_order(issues, findings or [])
    if order is not None:
        recs.append(order)

    pending = [issue for issue in issues if _pending(issue)]
    if pending:
        recs.append(
            (
                f"Run `fixer apply` to write the {len(pending)} fix{'' if len(pending) == 1 else 'es'} of this dry run "
                f"({', '.join(issue.id for issue in pending)}).",
                _IMPACT[min((i.severity for i in pending), key=SEVERITY_ORDER.index)],
            )
        )

    # One per rule that left something for a person, in the order its first such issue appears.
    unfixed: dict[str, list[Issue]] = {}
    for issue in issues:
        if not issue.fixed and not _pending(issue) and not issue.note:
            unfixed.setdefault(issue.rule, []).append(issue)
    for rule, rule_issues in unfixed.items():
        worst = min((i.severity for i in rule_issues), key=SEVERITY_ORDER.index)
        ids = ", ".join(i.id for i in rule_issues)
        recs.append(
            (
                f"Needs a person: {rule} found {_plural(len(rule_issues), 'issue')} it could not fix safely "
                f"({ids}); apply each issue's exact_fix by hand.",
                _IMPACT[worst],
            )
        )
    notes = [issue for issue in issues if issue.note]
    if notes:
        recs.append(
            (
                f"Check by hand what the notes name ({', '.join(i.id for i in notes)}): each says what fixer "
                "found and why it is not counted as a defect.",
                "None known: fixer left this code as it is, as nothing shows it failing.",
            )
        )

    if errors:
        skipped = "; ".join(f"{r.path} ({r.error})" for r in sorted(errors, key=lambda r: r.path))
        recs.append(
            (
                f"{_plural(len(errors), 'file')} could not be read/parsed and {'was' if len(errors) == 1 else 'were'} "
                f"skipped: {skipped}. Fix the file{'' if len(errors) == 1 else 's'} and run fixer again.",
                "Defects in skipped files are neither reported nor fixed.",
            )
        )

    if any(issue.rule == URL_RULE for issue in issues):
        recs.append(
            (
                "Set DATABASE_URL on your hosting platform to the postgresql+asyncpg:// form, with ssl=require "
                "instead of sslmode and channel_binding. The runtime normaliser handles postgresql:// but "
                "update it anyway.",
                "A platform's environment variable overrides .env, so the fixed files do not change the URL the "
                "app receives; the normaliser covers the app, but alembic and scripts that read DATABASE_URL "
                "directly still get the sync form.",
            )
        )

    recs.append(
        (
            "Run `fixer verify` to install the fixed requirements in a fresh virtualenv and boot the app against "
            "a real PostgreSQL before you deploy.",
            "Proves the server starts and serves requests; the report alone only shows what was changed.",
        )
    )
    return recs


_VERIFY_HINT = "Run `fixer verify`"


def _with_verification_recs(recs: list[tuple[str, str]], verification: Verification | None) -> list[tuple[str, str]]:
    """Once verified, "run fixer verify" is moot; a failed verification comes first, with what to do."""
    if verification is None:
        return recs
    kept = [rec for rec in recs if not rec[0].startswith(_VERIFY_HINT)]
    if not verification.passed:
        fixes = " ".join(
            dict.fromkeys(
                f"{match.defect}: run `fixer apply` ({', '.join(match.rules)}), or by hand: {match.fix}"
                if match.rules
                else f"{match.defect}: {match.fix}"
                for match in verification.diagnosis
            )
        )
        kept.insert(
            0,
            (
                f"`fixer verify` failed ({verification.status}): {verification.error or 'see the verification section'}."
                + (f" {fixes}" if fixes else ""),
                "The backend does not start (or does not answer) against a real PostgreSQL: it will not run deployed.",
            ),
        )
    return kept


def _redact_tree(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_tree(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_tree(item, redact) for item in value]
    return value


def build_report(
    results: list[FileResult],
    files_scanned: int,
    duration: float,
    verification: Verification | None = None,
    applied: bool = True,
) -> AuditReport:
    """One Issue per Finding, ordered by severity, the seed plan's category fix order, path, line.

    Ids are `{CATEGORY}-{NNN}`, numbered per category in that order. Files with an error become a
    recommendation, not issues (their findings, if any, are dropped: the file was left as it is).
    Every string in the result has been through `fixer.model.urls.redact`. `verification` (from `fixer verify`)
    is kept as given, and replaces the "run fixer verify" recommendation. `applied` False (a dry run): no
    issue is `fixed`, as nothing was written; `fix_available` says which ones `fixer apply` writes.
    """
    from fixer.model.urls import redact  # lazy: written separately, and only the report needs it

    errors = [r for r in results if r.error is not None]
    found = sorted(
        ((r.path, f) for r in results if r.error is None for f in r.findings),
        key=_sort_key,
    )

    counters: dict[Category, int] = {}
    ids: list[str] = []
    for _, finding in found:
        counters[finding.category] = counters.get(finding.category, 0) + 1
        if counters[finding.category] > 999:
            raise ValueError(f"more than 999 {finding.category.value} issues: the seed plan's ids have 3 digits")
        ids.append(f"{finding.category.value}-{counters[finding.category]:03d}")

    findings = [f for _, f in found]
    related = _related(findings, ids)
    issues = [
        Issue(
            id=ids[i],
            severity=finding.severity,
            category=finding.category,
            file_path=path,
            line_number=finding.line,
            problem_description=finding.problem,
            root_cause=finding.root_cause,
            exact_fix=CodeFix(
                file_path=path,
                old_code=finding.old_code,
                new_code=finding.new_code,
                explanation=_explanation(finding),
            ),
            related_issues=related[i],
            rule=finding.rule,
            fixed=finding.fixed and applied,
            fix_available=finding.fixed or not finding.safe,
            fix_safety="safe" if finding.safe else "unsafe",
            evidence=finding.evidence,
            note=finding.note,
        )
        for i, (path, finding) in enumerate(found)
    ]

    critical = sum(1 for issue in issues if issue.severity is Severity.CRITICAL)
    report = AuditReport(
        summary=AuditSummary(
            total_files_scanned=files_scanned,
            total_issues_found=len(issues),
            critical_issues=critical,
            warning_issues=len(issues) - critical,
            audit_duration_seconds=round(duration, 3),
        ),
        issues=issues,
        recommendations=[
            Recommendation(priority=n, description=description, impact=impact)
            for n, (description, impact) in enumerate(
                _with_verification_recs(_recommendations(issues, errors, findings), verification), start=1
            )
        ],
        verification=verification,
    )
    # Redact the finished report as a whole, so no string can be missed; validating again re-checks it.
    return AuditReport.model_validate(_redact_tree(report.model_dump(mode="json"), redact))


def with_verification(report: AuditReport, verification: Verification) -> AuditReport:
    """`report` with its verification section set (redacted like the rest of the report)."""
    from fixer.model.urls import redact

    recs = [(rec.description, rec.impact) for rec in report.recommendations]
    data = report.model_dump(mode="json")
    data["recommendations"] = [
        {"priority": n, "description": description, "impact": impact}
        for n, (description, impact) in enumerate(_with_verification_recs(recs, verification), start=1)
    ]
    data["verification"] = verification.model_dump(mode="json")
    return AuditReport.model_validate(_redact_tree(data, redact))


def report_json(report: AuditReport) -> str:
    """The report as indented JSON (keys in the data model's order) with a trailing newline."""
    return report.model_dump_json(indent=2) + "\n"


def report_schema() -> dict[str, Any]:
    """The JSON Schema of AuditReport (what `fixer schema` prints)."""
    return AuditReport.model_json_schema()
