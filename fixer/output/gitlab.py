"""`--output-format gitlab`: GitLab's code quality report (a JSON array of issues).

https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format: description, check_name,
fingerprint, severity (info/minor/major/critical/blocker), location.path and location.lines.begin."""

from __future__ import annotations

import hashlib
import json

from fixer.rules.findings import Severity
from fixer.output.diagnostics import Diagnostics

SEVERITY = {Severity.CRITICAL: "critical", Severity.HIGH: "major", Severity.MEDIUM: "minor", Severity.LOW: "info"}


def render(diagnostics: Diagnostics) -> str:
    issues = [
        {
            "description": f"{item.finding.rule} {item.message}",
            "check_name": item.finding.rule,
            "fingerprint": item.fingerprint,
            "severity": SEVERITY[item.finding.severity],
            "location": {"path": item.path, "lines": {"begin": item.start.line, "end": item.end.line}},
        }
        for item in diagnostics.items
    ]
    issues += [
        {
            "description": f"fixer skipped this file: {s.message}",
            "check_name": "fixer-skipped",
            "fingerprint": hashlib.sha256(f"skipped\0{s.path}".encode()).hexdigest(),
            "severity": "major",
            "location": {"path": s.path, "lines": {"begin": 1}},
        }
        for s in diagnostics.skipped
    ]
    return json.dumps(issues, indent=2) + "\n"
