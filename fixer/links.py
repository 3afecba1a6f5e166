"""Where fixer lives on the web: the one place its URLs are built (SARIF, the markdown review, rule docs).

Kept equal to pyproject's `project.urls` (a test compares them once that table exists)."""

from __future__ import annotations

REPOSITORY = "https://github.com/fixer-dev/fixer"
DOCS_BRANCH = "main"


def rule_doc_path(rule_id: str) -> str:
    return f"docs/rules/{rule_id}.md"


def rule_url(rule_id: str) -> str:
    return f"{REPOSITORY}/blob/{DOCS_BRANCH}/{rule_doc_path(rule_id)}"
