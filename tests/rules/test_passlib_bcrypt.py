"""FX024 passlib-bcrypt: bcrypt held below 5 where passlib is used and a breaking bcrypt installs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.passlib_bcrypt import PasslibBcrypt
from tests.rules.project_helpers import fix

SECURITY = 'from passlib.context import CryptContext\n\npwd = CryptContext(schemes=["bcrypt"], deprecated="auto")\n'
MAIN = "from fastapi import FastAPI\n\nfrom app import security\n\napp = FastAPI()\n"


def run(tmp_path: Path, requirements: dict[str, str], unsafe: bool = False, security: str = SECURITY):
    files = {"app/__init__.py": "", "app/main.py": MAIN, "app/security.py": security, **requirements}
    return fix(tmp_path, files, text_rules=[PasslibBcrypt], unsafe=unsafe)


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        ("extra-only", "fastapi\npasslib[bcrypt]==1.7.4\n", "fastapi\npasslib[bcrypt]==1.7.4\nbcrypt<5\n"),
        ("bare", "passlib\nbcrypt  # hashing\n", "passlib\nbcrypt<5  # hashing\n"),
        # bcrypt 4.3 only logs passlib's version warning: the author's floor stays.
        ("floor-kept", "passlib\nbcrypt>=4.3\n", "passlib\nbcrypt>=4.3,<5\n"),
        ("old-floor-kept", "passlib\nbcrypt>=3.2\n", "passlib\nbcrypt>=3.2,<5\n"),
        ("pinned-5", "passlib[bcrypt]\nbcrypt==5.0.0\n", "passlib[bcrypt]\nbcrypt==4.0.1\n"),
    ],
)
def test_requirements(tmp_path: Path, name: str, before: str, after: str) -> None:
    changed, findings = run(tmp_path, {"requirements.txt": before})
    assert changed == {"requirements.txt": after}
    assert [(f.rule, f.safe, f.fixed, f.defects) for f in findings] == [("FX024", True, True, ("DEP-PASSLIB",))]


def test_pyproject(tmp_path: Path) -> None:
    before = '[project]\nname = "x"\ndependencies = ["fastapi", "passlib[bcrypt]"]\n'
    changed, _ = run(tmp_path, {"pyproject.toml": before})
    assert changed == {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi", "passlib[bcrypt]", "bcrypt<5"]\n'}


def test_only_a_warning_is_unsafe(tmp_path: Path) -> None:
    changed, findings = run(tmp_path / "a", {"requirements.txt": "passlib\nbcrypt==4.1.3\n"})
    assert changed == {} and [(f.safe, f.fixed) for f in findings] == [(False, False)]
    changed, _ = run(tmp_path / "b", {"requirements.txt": "passlib\nbcrypt==4.1.3\n"}, unsafe=True)
    assert changed == {"requirements.txt": "passlib\nbcrypt==4.0.1\n"}


@pytest.mark.parametrize(
    "requirements",
    [
        "passlib[bcrypt]\nbcrypt==4.0.1\n",  # already held
        "passlib[bcrypt]\nbcrypt<4.1\n",
        "libpass[bcrypt]\n",  # the maintained fork (its module is passlib too)
        "bcrypt>=5\n",  # bcrypt used directly: no passlib
    ],
)
def test_left_alone(tmp_path: Path, requirements: str) -> None:
    security = SECURITY if "pass" in requirements else "import bcrypt\n"
    assert run(tmp_path, {"requirements.txt": requirements}, security=security) == ({}, [])


def test_pyproject_floor_kept_and_only_failing_versions_named(tmp_path: Path) -> None:
    before = '[project]\nname = "x"\ndependencies = ["fastapi", "passlib[bcrypt]", "bcrypt>=4.3"]\n'
    changed, findings = run(tmp_path, {"pyproject.toml": before})
    assert changed == {"pyproject.toml": before.replace('"bcrypt>=4.3"', '"bcrypt>=4.3,<5"')}
    problem = findings[0].problem
    assert "5.0" in problem and "4.3" not in problem


def test_capped_below_5_gets_only_the_unsafe_warning(tmp_path: Path) -> None:
    changed, findings = run(tmp_path, {"requirements.txt": "passlib[bcrypt]\nbcrypt>=4.3,<5\n"})
    assert changed == {} and [(f.safe, f.fixed, f.severity.value) for f in findings] == [(False, False, "LOW")]


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        # Two training backends (an unpinned bcrypt beside passlib): `bcrypt<5` on the first run, `,<4.1` on the
        # second. With --unsafe-fixes the hold below 4.1 is made at once: one run reaches the fixed point.
        ("bare", "passlib\nbcrypt\n", "passlib\nbcrypt<4.1\n"),
        ("extra-only", "fastapi\npasslib[bcrypt]\n", "fastapi\npasslib[bcrypt]\nbcrypt<4.1\n"),
        ("floor-kept", "passlib\nbcrypt>=3.2\n", "passlib\nbcrypt>=3.2,<4.1\n"),
    ],
)
def test_with_unsafe_fixes_one_run_reaches_the_fixed_point(tmp_path: Path, name: str, before: str, after: str) -> None:
    changed, findings = run(tmp_path, {"requirements.txt": before}, unsafe=True)  # `fix` runs a second time
    assert changed == {"requirements.txt": after}
    assert [(f.safe, f.fixed) for f in findings] == [(True, True)]


LOCKED_5 = '[[package]]\nname = "bcrypt"\nversion = "5.0.0"\n\n[[package]]\nname = "passlib"\nversion = "1.7.4"\n'


def test_a_floor_at_5_beside_a_lock_is_pinned_once(tmp_path: Path) -> None:
    # A training backend: `bcrypt>=5.0.0` with uv.lock at 5.0.0. The lock still says 5 after the edit (until
    # relocked): the entry already excludes it, so no later round or run appends its bound again.
    before = '[project]\nname = "x"\ndependencies = ["passlib>=1.7.4", "bcrypt>=5.0.0"]\n'
    changed, findings = run(tmp_path, {"pyproject.toml": before, "uv.lock": LOCKED_5})
    assert changed == {"pyproject.toml": before.replace('"bcrypt>=5.0.0"', '"bcrypt==4.0.1"')}
    assert [(f.safe, f.fixed) for f in findings] == [(True, True)]


def test_a_held_entry_beside_a_lock_still_at_5_is_left_alone(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["passlib>=1.7.4", "bcrypt==4.0.1"]\n',
             "uv.lock": LOCKED_5}
    assert run(tmp_path, files) == ({}, [])

