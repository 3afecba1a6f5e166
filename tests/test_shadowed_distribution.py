"""A project package named like a module an installed distribution provides (`mcp/` beside the distribution mcp,
the import names from fixer/data/modules.json) comes first on the start's sys.path: every `import mcp`, an
installed package's too, gets the project's. The prediction says so where an installed package that needs the
shadowed distribution is imported; fixer edits nothing for it."""

from __future__ import annotations

from pathlib import Path

from fixer.discover.files import discover
from fixer.model import startup
from tests.rules.project_helpers import write

AGENT = "from fastapi import FastAPI\nfrom agents import Agent\nfrom mcp.tools import add\n\napp = FastAPI()\n"


def predicted(root: Path):
    paths = list(discover(root, []))
    return startup.analyse(root, paths, lambda rel: (root / rel).read_text()).primary


def project(root: Path, **extra: str) -> Path:
    return write(root, {"README.md": "uvicorn main:app\n", "main.py": AGENT, "requirements.txt": "fastapi\nmcp\nopenai-agents\n",
                        "mcp/__init__.py": "", "mcp/tools.py": "def add(): ...\n", **extra})


def test_an_installed_package_needing_the_shadowed_distribution_is_uncertain_where_it_is_imported(tmp_path: Path) -> None:
    prediction = predicted(project(tmp_path))
    assert prediction.failures == ()
    [(path, line, error, why)] = prediction.uncertain
    assert (path, line) == ("main.py", 2)
    assert error == "`import agents` may fail inside openai-agents: its `import mcp` gets the project's mcp/__init__.py"
    assert "shadows the distribution mcp" in why


def test_a_recorded_requirement_names_the_release_that_needs_it(tmp_path: Path) -> None:
    """fastapi's recorded Requires-Dist names pydantic: a project `pydantic/` package breaks fastapi's own import."""
    root = write(tmp_path, {"README.md": "uvicorn main:app\n", "requirements.txt": "fastapi==0.115.0\n",
                            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n", "pydantic/__init__.py": ""})
    [(path, line, error, why)] = predicted(root).uncertain
    assert (path, line, error) == ("main.py", 1, "`import fastapi` may fail inside fastapi: its `import pydantic` gets "
                                   "the project's pydantic/__init__.py")
    assert "fastapi 0.115.0 requires pydantic" in why


def test_no_doubt_without_a_shadow_or_without_a_package_that_needs_it(tmp_path: Path) -> None:
    alone = write(tmp_path / "alone", {"README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\nmcp\nopenai-agents\n",
                                       "main.py": "from fastapi import FastAPI\nfrom agents import Agent\napp = FastAPI()\n"})
    assert predicted(alone).uncertain == ()
    # a folder without __init__.py is only a namespace portion: the installed mcp wins
    namespace = project(tmp_path / "namespace")
    (namespace / "mcp/__init__.py").unlink()
    (namespace / "main.py").write_text(AGENT.replace("from mcp.tools import add\n", ""))
    assert predicted(namespace).uncertain == ()
    # nothing installed needs mcp: the project's own `mcp` is what its imports mean
    unneeded = project(tmp_path / "unneeded", **{"main.py": AGENT.replace("from agents import Agent\n", "")})
    (unneeded / "requirements.txt").write_text("fastapi\nmcp\n")
    assert predicted(unneeded).uncertain == ()


def test_the_doubt_is_said_and_nothing_is_edited(tmp_path: Path) -> None:
    from tests.cli_helpers import fixer

    root = project(tmp_path)
    done = fixer("dry-run", ".", cwd=root)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()
    assert "uncertain: `import agents` may fail inside openai-agents" in done.stderr.decode()
