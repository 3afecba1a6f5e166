"""Releases: the tags, `fixer -V`, CHANGELOG.md and the README's install and pre-commit snippets agree
(docs/releasing.md). A README may pin only a tag that exists, and then the newest."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

import fixer
from cli_helpers import fixer as run_fixer

REPO = Path(__file__).parent.parent
SECTION = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2}|Unreleased)$", re.M)
PIN = re.compile(r"@v(\d+\.\d+\.\d+)\b|\brev: v(\d+\.\d+\.\d+)\b")
LINK_TAG = re.compile(r"\bv(\d+\.\d+\.\d+)\b")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout


def _tags() -> dict[str, str]:
    """version → the tag's object type ("tag" for an annotated tag)."""
    listed = _git("for-each-ref", "--format=%(refname:short) %(objecttype)", "refs/tags/v*").split("\n")
    return {line.split()[0][1:]: line.split()[1] for line in listed if re.fullmatch(r"v\d+\.\d+\.\d+ \w+", line)}


def _sections(changelog: str) -> dict[str, str]:
    return dict(SECTION.findall(changelog))


def _pins(readme: str) -> list[str]:
    return [a or b for a, b in PIN.findall(readme)]


def check(version: str, tags: dict[str, str] | None, changelog: str, readme: str, tagged_version=None) -> list[str]:
    """What disagrees. `tags` is None outside a git checkout (an sdist): the dated CHANGELOG sections stand in."""
    problems = []
    sections = _sections(changelog)
    if not sections or next(iter(sections)) != version:
        problems.append(f"CHANGELOG.md's first version section is not [{version}] (fixer -V)")
    released = {v for v, date in sections.items() if date != "Unreleased"}
    known = set(tags) if tags is not None else released
    if tags is not None:
        for tag, kind in sorted(tags.items()):
            if kind != "tag":
                problems.append(f"v{tag} is a lightweight tag: make it annotated (git tag -a)")
            if tag not in released:
                problems.append(f"v{tag} is tagged but CHANGELOG.md has no dated [{tag}] section")
            if tagged_version is not None and tagged_version(tag) != tag:
                problems.append(f"v{tag}'s fixer/__init__.py says {tagged_version(tag)}")
        if version in sections and (version in tags) != (sections[version] != "Unreleased"):
            state = "tagged" if version in tags else "not tagged"
            problems.append(f"{version} is {state} but CHANGELOG.md says {sections[version]}")
    links = [line for line in changelog.splitlines() if re.match(r"\[\d+\.\d+\.\d+\]: ", line)]
    for line in links:
        problems += [f"CHANGELOG.md links v{v}, which is not tagged" for v in LINK_TAG.findall(line) if v not in known]
    pins = _pins(readme)
    problems += [f"README pins v{v}, which is not tagged" for v in sorted(set(pins)) if v not in known]
    if known:
        newest = str(max(map(Version, known)))
        if not pins or set(pins) != {newest}:
            problems.append(f"README's install and pre-commit snippets must pin v{newest}, the newest release")
    return problems


def _version_at(tag: str) -> str:
    source = _git("show", f"v{tag}:fixer/__init__.py")
    return re.search(r'__version__ = "([^"]+)"', source).group(1)


def test_tags_version_changelog_and_readme_agree() -> None:
    version = run_fixer("-V").stdout.decode().split()[1]
    assert version == fixer.__version__
    tags = _tags() if (REPO / ".git").exists() else None
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert check(version, tags, changelog, readme, _version_at) == []


CHANGELOG = """## [0.3.0] - {date}\n\n## [0.2.0] - 2026-12-01\n\n[0.3.0]: https://x/compare/v0.2.0...{head}\n"""


@pytest.mark.parametrize(
    ("tags", "date", "head", "readme", "wanted"),
    [
        ({"0.2.0": "tag"}, "Unreleased", "HEAD", "pipx install x@v0.2.0\n    rev: v0.2.0\n", []),
        ({"0.2.0": "tag", "0.3.0": "tag"}, "2026-12-07", "v0.3.0", "rev: v0.3.0\n", []),
        # The README claims a tag that was never made.
        ({"0.2.0": "tag"}, "Unreleased", "HEAD", "rev: v0.3.0\n", ["README pins v0.3.0, which is not tagged",
                                                                   "README's install and pre-commit snippets must pin v0.2.0, the newest release"]),
        # Tagged, but the CHANGELOG still says Unreleased; and a lightweight tag.
        ({"0.2.0": "tag", "0.3.0": "commit"}, "Unreleased", "HEAD", "rev: v0.3.0\n",
         ["v0.3.0 is a lightweight tag: make it annotated (git tag -a)",
          "v0.3.0 is tagged but CHANGELOG.md has no dated [0.3.0] section", "0.3.0 is tagged but CHANGELOG.md says Unreleased"]),
        # No tag at all: the README pins none.
        ({}, "Unreleased", "HEAD", "rev: main\n", ["CHANGELOG.md links v0.2.0, which is not tagged"]),
    ],
)
def test_disagreements_are_named(tags, date, head, readme, wanted) -> None:
    assert check("0.3.0", tags, CHANGELOG.format(date=date, head=head), readme) == wanted
