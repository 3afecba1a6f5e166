"""What a rule found in one file: the unit every later stage (diff, report, exit code) consumes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    CRITICAL = "CRITICAL"  # the server does not start, or the first request fails
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Category(str, enum.Enum):
    IMPORT = "IMPORT"
    DEPENDENCY = "DEPENDENCY"
    DATABASE = "DATABASE"
    CONFIG = "CONFIG"
    ENTRYPOINT = "ENTRYPOINT"


@dataclass(frozen=True)
class Finding:
    """One defect. `fixed` is False when the rule only explains it and a person must act."""

    rule: str
    category: Category
    severity: Severity
    problem: str
    root_cause: str
    old_code: str
    new_code: str
    explanation: str
    fixed: bool = True
    defects: tuple[str, ...] = ()  # defect-catalogue IDs, e.g. ("ENG-IMPORT",)
    line: int | None = None  # 1-based line in the original file; located by the runner when None
    # Safe: the project shows the input on which today's code fails, and the new code works on every version
    # it installs. Unsafe: an improvement, or protection for an input the project does not show; written only
    # with --unsafe-fixes (until then `fixed` is False and the finding says how to get it).
    safe: bool = True
    evidence: str = ""  # where the project shows the failing input, and the versions the fix was judged against
    # A predicted startup failure's place in the order a start raises them (1 = first): it masks the later ones.
    startup_order: int | None = None
    # Not a defect: something fixer could not decide, shown so a person can check it (FX041). It costs no exit 1.
    note: bool = False


@dataclass
class FileResult:
    """The outcome of every rule on one file."""

    path: str  # relative to the root, POSIX separators
    old: bytes
    new: bytes
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # the file could not be decoded or parsed; it is left as it is
    traceback: str | None = None  # where an internal error came from (shown with --verbose)
    encoding: str = "utf-8"  # how to decode old/new for a diff (a BOM stays part of the first line)
    suppressed: list[Finding] = field(default_factory=list)  # kept by a `# fixer: ignore` comment: not edited
    # What its patch may show (fixer.apply.disclosure): whether git tracks the file (a password committed in it is
    # no new disclosure), and the secrets of the untracked credential files, which no hunk may show.
    tracked: bool = False
    untracked_secrets: frozenset[str] = frozenset()

    @property
    def changed(self) -> bool:
        return self.error is None and self.new != self.old

    @property
    def matters(self) -> bool:
        return bool(self.changed or self.findings or self.error or self.suppressed)
