"""FX052 annotated-default: a route parameter's `Depends` default that repeats the dependency its `Annotated` type
names is removed where fastapi >= 0.95 asserts on it; another marker, another dependency, an older fastapi or a
plain class dependency (`user: User = Depends()`) are left alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fixer.rules.annotated_default import AnnotatedDefault
from tests.cli_helpers import fixer
from tests.rules.project_helpers import fix

DEPS = ("from typing import Annotated\n\nfrom fastapi import Depends, Query\n\n\ndef get_user():\n    return {}\n\n\n"
        "class Pager:\n    def __init__(self, page: int = 1):\n        self.page = page\n\n\n"
        "User = Annotated[dict, Depends(get_user)]\nLimit = Annotated[int, Query()]\n")
HEAD = ("from typing import Annotated\n\nfrom fastapi import Depends, FastAPI, Query\n\n"
        "from app.deps import Limit, Pager, User, get_user\n\napp = FastAPI()\n\n\n")


def run(tmp_path: Path, main: str, fastapi: str = "0.116.1"):
    files = {"Procfile": "web: uvicorn app.main:app\n", "requirements.txt": f"fastapi=={fastapi}\nuvicorn\n",
             "app/__init__.py": "", "app/deps.py": DEPS, "app/main.py": main}
    return fix(tmp_path, files, [AnnotatedDefault])


@pytest.mark.parametrize(("before", "after"), [
    ("async def me(user: User = Depends()):", "async def me(user: User):"),
    ("async def me(user: Annotated[dict, Depends(get_user)] = Depends(get_user)):",
     "async def me(user: Annotated[dict, Depends(get_user)]):"),
    # a parameter with a default before it: from it on, keyword-only
    ("async def me(q: str = Query(''), user: User = Depends(), page: Pager = Depends()):",
     "async def me(q: str = Query(''), *, user: User, page: Pager = Depends()):"),
    ("async def me(q: str = '', user: User = Depends(), *, limit: int = 3):",
     "async def me(q: str = '', *, user: User, limit: int = 3):"),
    ("async def me(*, q: str = '', user: User = Depends()):", "async def me(*, q: str = '', user: User):"),
])
def test_the_repeated_default_is_removed(tmp_path: Path, before: str, after: str) -> None:
    main = HEAD + f"@app.get('/me')\n{before}\n    return user\n"
    changed, [finding] = run(tmp_path, main)  # `fix` also checks that a second run changes nothing
    assert changed["app/main.py"] == main.replace(before, after)
    ast.parse(changed["app/main.py"])
    assert finding.rule == "FX052" and finding.fixed and finding.safe


@pytest.mark.parametrize("parameters", [
    "user: User",  # one marker: fine
    "page: Pager = Depends()",  # a class dependency: the default names it
    "user: User = Depends(Pager)",  # another dependency than the annotation's: a person's choice
    "limit: Limit = Depends(get_user)",  # another marker in the annotation
])
def test_what_fastapi_takes_or_a_person_must_decide_is_left_alone(tmp_path: Path, parameters: str) -> None:
    main = HEAD + f"@app.get('/me')\nasync def me({parameters}):\n    return 1\n"
    assert run(tmp_path, main) == ({}, [])


@pytest.mark.parametrize("parameters", ["q: int = 1, /, user: User = Depends()", "user: User = Depends(), /"])
def test_positional_only_parameters_are_left_alone(tmp_path: Path, parameters: str) -> None:
    main = HEAD + f"@app.get('/me')\nasync def me({parameters}):\n    return 1\n"
    changed, findings = run(tmp_path, main)
    assert changed == {} and not any(f.fixed for f in findings)


def test_a_list_written_one_per_line_gets_the_star_on_its_own_line(tmp_path: Path) -> None:
    before = "async def me(\n    q: str = Query(''),\n    user: User = Depends(),\n    page: int = 1,\n):"
    main = HEAD + f"@app.get('/me')\n{before}\n    return user\n"
    changed, _ = run(tmp_path, main)
    assert changed["app/main.py"] == main.replace(
        before, "async def me(\n    q: str = Query(''),\n    *,\n    user: User,\n    page: int = 1,\n):")


def test_before_fastapi_095_nothing_is_changed(tmp_path: Path) -> None:
    main = HEAD + "@app.get('/me')\nasync def me(user: User = Depends()):\n    return user\n"
    assert run(tmp_path, main, fastapi="0.94.1") == ({}, [])
    done = fixer("dry-run", "-j1", tmp_path)
    assert done.stdout == b"", done.stderr.decode()


def test_a_function_no_route_declares_is_left_alone(tmp_path: Path) -> None:
    main = HEAD + "async def me(user: User = Depends()):\n    return user\n"
    assert run(tmp_path, main) == ({}, [])
