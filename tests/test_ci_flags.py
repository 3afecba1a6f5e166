"""CI flags and colour: --exit-zero, --exit-non-zero-on-fix, -q, --statistics, -V, --color / NO_COLOR / FORCE_COLOR."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import fixer

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed"
ESC = b"\x1b["


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEED / "broken" / "backend", tmp_path / "backend"))


def run_with_env(*args: str | Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "fixer", *map(str, args)], capture_output=True, timeout=300,
                          env={**clean, **env})


def test_short_version() -> None:
    short = fixer("-V")
    assert short.returncode == 0 and short.stdout == fixer("--version").stdout
    assert short.stdout.startswith(b"fixer")


def test_exit_zero_and_exit_non_zero_on_fix(broken: Path) -> None:
    assert fixer("dry-run", broken).returncode == 1
    assert fixer("dry-run", broken, "--exit-zero").returncode == 0
    assert fixer("dry-run", broken.parent / "missing", "--exit-zero").returncode == 2  # errors stay errors
    assert fixer("apply", broken, "--exit-non-zero-on-fix").returncode == 1  # wrote files
    assert fixer("apply", broken, "--exit-non-zero-on-fix").returncode == 0  # nothing left to write
    assert b"--exit-non-zero-on-fix" not in fixer("dry-run", "--help").stdout


def test_quiet_leaves_stderr_empty_but_for_errors(broken: Path) -> None:
    loud = fixer("dry-run", broken)
    quiet = fixer("dry-run", broken, "-q")
    assert loud.stderr and quiet.stderr == b""
    assert quiet.stdout == loud.stdout and quiet.returncode == 1
    # Valid for LibCST's tokenizer, refused by its parser: the file is skipped, an error -q still says.
    nested = "(" * 1500 + "1" + ")" * 1500
    (broken.parent / "deep").mkdir()
    (broken.parent / "deep" / "deep.py").write_text(f"from sqlalchemy import AsyncEngine\nDATA = {nested}\n")
    errors = fixer("dry-run", "deep", "-q", cwd=broken.parent).stderr.decode().splitlines()
    assert len(errors) == 1 and errors[0].startswith("skipped deep/deep.py: cannot parse"), errors


def test_statistics_counts_per_rule(broken: Path) -> None:
    result = fixer("dry-run", broken, "--statistics", "-q")
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        "3\tFX004\t[*] async-database-url",
        "2\tFX001\t[*] async-driver-dependency",
        "2\tFX002\t[*] async-imports",
        "1\tFX003\t[ ] async-sessionmaker",
    ]
    counts = fixer("dry-run", broken, "--statistics", "--output-format", "json").stdout
    assert b'"code": "FX004"' in counts and b'"count": 3' in counts


def test_colour(broken: Path) -> None:
    piped = run_with_env("dry-run", broken)
    assert ESC not in piped.stdout and ESC not in piped.stderr  # not a terminal
    always = run_with_env("dry-run", broken, "--color", "always")
    assert b"\x1b[32m+asyncpg>=0.31\x1b[0m" in always.stdout and b"\x1b[36m@@ -2,9 +2,10 @@\x1b[0m" in always.stdout
    assert b"\x1b[31m-psycopg2-binary>=2.9.9\x1b[0m" in always.stdout
    assert b"\x1b[33mFX003\x1b[0m" in always.stderr  # the rule, by its severity (MEDIUM: a latent failure)
    stripped = always.stdout.replace(b"\x1b[0m", b"")
    for code in (b"\x1b[1m", b"\x1b[32m", b"\x1b[31m", b"\x1b[36m"):
        stripped = stripped.replace(code, b"")
    assert stripped == piped.stdout
    assert ESC in run_with_env("dry-run", broken, FORCE_COLOR="1").stdout


@pytest.mark.parametrize(
    ("mode", "env", "choice"),
    [
        ("auto", {}, None),  # click decides per stream: a terminal or not
        ("auto", {"NO_COLOR": "1"}, False),
        ("auto", {"FORCE_COLOR": "1"}, True),
        ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ("auto", {"NO_COLOR": ""}, None),  # NO_COLOR counts only when set to something
        ("always", {"NO_COLOR": "1"}, True),
        ("never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_colour_choice(monkeypatch, mode: str, env: dict[str, str], choice: bool | None) -> None:
    from fixer.output.options import color_choice

    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert color_choice(mode) is choice


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_colour_on_a_terminal_by_default(broken: Path) -> None:
    import pty

    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    leader, follower = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-m", "fixer", "dry-run", str(broken), "-q"], stdout=follower,
                                 stderr=subprocess.PIPE, timeout=300, env=clean)
        assert process.returncode == 1
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert b"\x1b[32m+asyncpg>=0.31" in seen


def test_a_closed_pipe_is_not_an_error() -> None:
    # `true` exits before fixer writes a byte: every write meets a closed pipe.
    command = f"{sys.executable} -m fixer dry-run {SEED / 'broken' / 'backend'} --output-format sarif -q | true"
    done = subprocess.run(["bash", "-c", f"{command}; echo ${{PIPESTATUS[0]}}"], capture_output=True, timeout=300)
    assert done.stderr == b""
    assert done.stdout == b"1\n"  # fixer's exit code: fixes pending, as without the pipe
