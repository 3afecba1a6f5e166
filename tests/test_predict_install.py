"""The prediction's fresh install: which dependency files the documented start installs, what the
distributions it installs provide, and the names an installed package's fresh version no longer has."""

from __future__ import annotations

from pathlib import Path

from fixer.discover.files import discover
from fixer.model import startup

SYNC_APP = (
    "import os\nfrom fastapi import FastAPI\nfrom sqlmodel import create_engine\n"
    "engine = create_engine(os.environ['DATABASE_URL'])\napp = FastAPI()\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def failures(root: Path) -> list[str]:
    paths = list(discover(root, []))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(),
                            database_url="postgresql://u:p@h/db?sslmode=require")
    return [str(f) for f in found.primary.failures]


def test_another_build_of_a_driver_does_not_bring_the_driver_sqlalchemy_2_1_loads(tmp_path: Path) -> None:
    """psycopg2-binary is psycopg2 built in advance, not a plugin that may bring anything: a bare postgresql://
    on SQLAlchemy 2.1 still needs psycopg (3)."""
    files = {"README.md": "uvicorn main:app\n", "main.py": SYNC_APP,
             "requirements.txt": "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n"}
    assert failures(write(tmp_path / "a", files)) == ["ModuleNotFoundError: No module named 'psycopg'"]
    files["requirements.txt"] += "psycopg[binary]\n"
    assert failures(write(tmp_path / "b", files)) == []


LOCK = (
    'version = 1\n[[package]]\nname = "sqlalchemy"\nversion = "2.0.40"\n'
    '[[package]]\nname = "psycopg2-binary"\nversion = "2.9.10"\n'
)
PYPROJECT = '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi", "uvicorn", "sqlmodel", "psycopg2-binary"]\n'


def test_the_install_is_the_one_the_documented_start_runs_on(tmp_path: Path) -> None:
    """A Dockerfile that runs `uv sync` installs the lock's SQLAlchemy 2.0 (psycopg2 for a bare postgresql://);
    `pip install .` ignores the lock and gets 2.1, which loads psycopg (3)."""
    from fixer.model.freshinstall import install_plan

    files = {"main.py": SYNC_APP, "pyproject.toml": PYPROJECT, "uv.lock": LOCK}
    synced = write(tmp_path / "a", {**files, "Dockerfile": "FROM python:3.12\nRUN pip install uv\nCOPY . .\n"
                                    "RUN uv sync\nCMD uv run uvicorn main:app\n"})
    assert failures(synced) == []
    assert install_plan(lambda rel: (synced / rel).read_text(), list(discover(synced, [])), "Dockerfile").kind == "lock"
    readme = write(tmp_path / "b", {**files, "README.md": "```\npip install .\nuvicorn main:app\n```\n"})
    assert failures(readme) == ["ModuleNotFoundError: No module named 'psycopg'"]
    # the README's start installs its requirements file, whatever the Dockerfile syncs
    both = write(tmp_path / "c", {**files, "requirements.txt": "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n",
                                  "README.md": "```\npip install -r requirements.txt\nuvicorn main:app\n```\n"})
    plan = install_plan(lambda rel: (both / rel).read_text(), list(discover(both, [])), "README.md")
    assert (plan.kind, plan.file) == ("requirements", "requirements.txt")


def test_a_lock_the_documented_start_syncs_gets_no_driver_fix_and_pip_install_dot_does(tmp_path: Path) -> None:
    """Correct project, no diff: the Dockerfile's `uv sync` gives the lock's SQLAlchemy 2.0, where a bare
    postgresql:// loads the psycopg2 it installs. Started after `pip install .` (2.1), the URL needs +psycopg2;
    a second apply changes nothing."""
    from tests.cli_helpers import fixer, tree

    files = {"main.py": SYNC_APP, "pyproject.toml": PYPROJECT, "uv.lock": LOCK}
    synced = write(tmp_path / "a", {**files, "Dockerfile": "FROM python:3.12\nRUN pip install uv\nCOPY . .\n"
                                    "RUN uv sync\nCMD uv run uvicorn main:app\n"})
    done = fixer("dry-run", synced)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()
    unlocked = write(tmp_path / "b", {**files, "README.md": "```\npip install .\nuvicorn main:app\n```\n"})
    assert fixer("apply", unlocked).returncode in (0, 1)
    assert b"to_psycopg2_database_url(os.environ['DATABASE_URL'])" in (unlocked / "main.py").read_bytes()
    before = tree(unlocked)
    fixer("apply", unlocked)
    assert tree(unlocked) == before


def test_the_python_of_an_image_named_after_it() -> None:
    from fixer.model.freshinstall import project_python_version

    for image, expected in (("python:3.12-slim AS build", "3.12"), ("ghcr.io/astral-sh/uv:python3.13-bookworm-slim", "3.13"),
                            ("tiangolo/uvicorn-gunicorn-fastapi:python3.10", "3.10")):
        texts = {"Dockerfile": f"FROM {image}\nCMD uvicorn main:app\n"}
        assert project_python_version(texts.get, list(texts)) == expected


def test_a_pin_only_a_requirement_pulls_in_without_a_wheel_is_reported_not_a_crash(tmp_path: Path) -> None:
    """pydantic 2.5.3 pins pydantic-core 2.14.6, which has no wheel for CPython 3.13: the failure is written on
    no line of the project, and the JSON report still validates (it said `line_number` 0: exit 2)."""
    from tests.cli_helpers import fixer

    # only requires-python names the Python: FX025's raise is unsafe, the failure is reported
    root = write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.13"\n',
                            "README.md": "uvicorn main:app\n",
                            "requirements.txt": "fastapi\nuvicorn\npydantic==2.5.3\n",
                            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    done = fixer("dry-run", root, "--report", tmp_path / "report.json")
    assert done.returncode == 1, done.stderr.decode()
    assert b"Failed to build `pydantic-core==2.14.6`" in done.stderr


def test_a_plugin_of_a_framework_known_by_name_only_brings_no_driver(tmp_path: Path) -> None:
    """celery-acme-beat plugs into a framework fixer knows by name only, and what it brings is unknown, but a
    database driver is the application's choice: psycopg's absence is predicted, not left uncertain (openai-agents
    beside a bare postgresql:// on SQLAlchemy 2.1 fails the same way)."""
    from tests.cli_helpers import fixer

    for plugin in ("celery-acme-beat==2.0", "openai-agents"):
        root = write(tmp_path / plugin, {"README.md": "uvicorn main:app\n", "main.py": SYNC_APP, "requirements.txt":
                                         f"fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n{plugin}\n"})
        paths = list(discover(root, []))
        found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(), database_url="postgresql://u:p@h/db")
        assert [str(f) for f in found.primary.failures] == ["ModuleNotFoundError: No module named 'psycopg'"]
        assert found.primary.uncertain == ()
    said = fixer("dry-run", root).stderr.decode()
    assert "uncertain:" not in said and "No module named 'psycopg'" in said


def test_a_fresh_install_picks_the_releases_the_projects_python_can_install(tmp_path: Path) -> None:
    """SQLAlchemy 2.1 requires Python 3.11: on the image's CPython 3.10 pip installs 2.0, where a bare
    postgresql:// loads the psycopg2 the project lists. On 3.12 it installs 2.1, which loads psycopg (3)."""
    files = {"main.py": SYNC_APP, "requirements.txt": "fastapi\nuvicorn\nsqlmodel\npsycopg2-binary\n"}
    for python, expected in (("3.10", []), ("3.12", ["ModuleNotFoundError: No module named 'psycopg'"])):
        root = write(tmp_path / python, {**files, "Dockerfile": f"FROM python:{python}-slim\nCOPY . .\n"
                                         "RUN pip install -r requirements.txt\nCMD uvicorn main:app\n"})
        assert failures(root) == expected, python


def test_a_url_a_settings_property_builds_is_not_read_from_the_environment(tmp_path: Path) -> None:
    """`settings.DATABASE_URI` is a computed property that names psycopg (3) itself: no platform variable holds
    it, so SQLAlchemy 2.0's psycopg2 default is not what the engine loads. Correct project, no diff."""
    from tests.cli_helpers import fixer

    config = (
        "from pydantic import PostgresDsn, computed_field\nfrom pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n    PG_HOST: str = 'localhost'\n\n"
        "    @computed_field\n    @property\n    def SQLALCHEMY_DATABASE_URI(self) -> PostgresDsn:\n"
        "        return PostgresDsn.build(scheme='postgresql+psycopg', host=self.PG_HOST, path='app')\n\n\n"
        "settings = Settings()\n"
    )
    main = ("from fastapi import FastAPI\nfrom sqlmodel import create_engine\nfrom config import settings\n"
            "engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI))\napp = FastAPI()\n")
    root = write(tmp_path, {"config.py": config, "main.py": main,
                            "Dockerfile": "FROM python:3.10\nCOPY . .\nRUN pip install -r requirements.txt\nCMD uvicorn main:app\n",
                            "requirements.txt": "fastapi\nuvicorn\nsqlmodel\npydantic-settings\npsycopg[binary]\n"})
    assert failures(root) == []
    done = fixer("dry-run", root)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()


COMPOSE = ("services:\n  web:\n    build:\n      context: .\n      dockerfile: ./docker/python/Dockerfile\n"
           "    command: uvicorn main:app --host 0.0.0.0\n")


def test_a_compose_start_installs_and_runs_on_what_its_service_builds(tmp_path: Path) -> None:
    """A compose service built from docker/python/Dockerfile runs on that image's Python and installs what it
    writes (`poetry export` of the lock, then pip): asyncpg 0.25.0 has wheels for 3.10, not for 3.12."""
    from fixer.model.freshinstall import install_plan, project_python_version

    def image(python: str) -> str:
        return (f"FROM python:{python} as requirements\nRUN pip install poetry\nCOPY pyproject.toml poetry.lock /tmp/\n"
                "RUN poetry export -f requirements.txt --output requirements.txt\n"
                f"FROM python:{python}\nCOPY --from=requirements /tmp/requirements.txt /app/\n"
                "RUN pip install -r /app/requirements.txt\n")

    pyproject = ('[tool.poetry]\nname = "x"\nversion = "0"\n[tool.poetry.dependencies]\npython = "^3.10"\n'
                 'fastapi = "*"\nuvicorn = "*"\nsqlmodel = "*"\nasyncpg = "^0.25.0"\n')
    lock = '[[package]]\nname = "asyncpg"\nversion = "0.25.0"\n[metadata]\nlock-version = "1.1"\n'
    files = {"main.py": SYNC_APP, "docker-compose.yaml": COMPOSE, "pyproject.toml": pyproject, "poetry.lock": lock}
    fits = write(tmp_path / "a", {**files, "docker/python/Dockerfile": image("3.10.4")})
    paths = list(discover(fits, []))
    read = lambda rel: (fits / rel).read_text()  # noqa: E731
    assert install_plan(read, paths, "docker-compose.yaml").kind == "lock"
    assert project_python_version(read, paths, "docker-compose.yaml") == "3.10"
    assert not any(f.startswith("Failed to build") for f in failures(fits))
    newer = write(tmp_path / "b", {**files, "docker/python/Dockerfile": image("3.12")})
    assert "Failed to build `asyncpg==0.25.0`" in failures(newer)[0]


def test_poetrys_python_range_names_the_lowest_python_it_allows(tmp_path: Path) -> None:
    from fixer.model.freshinstall import project_python_version

    root = write(tmp_path, {"pyproject.toml": '[tool.poetry.dependencies]\npython = ">3.9,<3.12"\n'})
    assert project_python_version(lambda rel: (root / rel).read_text(), ["pyproject.toml"]) == "3.10"


def test_a_dockerfile_above_the_backend_installs_the_requirements_beside_it(tmp_path: Path) -> None:
    """`COPY requirements.txt .` in ../Dockerfile copies the repository's requirements.txt, not the backend's
    (which may hold a Windows-only pin the image never installs)."""
    from fixer.model.freshinstall import install_plan

    write(tmp_path, {"Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
                     "requirements.txt": "fastapi\n", "backend/requirements.txt": "fastapi\npywin32==308\n"})
    backend = tmp_path / "backend"
    read = lambda rel: (backend / rel).read_text() if (backend / rel).is_file() else None  # noqa: E731
    plan = install_plan(read, ["requirements.txt"], "../Dockerfile")
    assert (plan.kind, plan.file) == ("requirements", "../requirements.txt")
    # a Dockerfile in the backend: the file it names, relative to its folder
    write(backend, {"Dockerfile": "FROM python:3.11\nRUN pip install -r requirements/prod.txt\n",
                    "requirements/prod.txt": "fastapi\n"})
    plan = install_plan(read, ["Dockerfile", "requirements.txt", "requirements/prod.txt"], "Dockerfile")
    assert plan.file == "requirements/prod.txt"


def test_the_bench_installs_what_poetry_install_takes_on_linux(tmp_path: Path) -> None:
    """What `poetry install` takes from poetry.lock on Linux: its groups (as fixer's model reads the lock), no
    Windows-only package, an optional dependency only through the extra asked for, a wheel URL's Linux build,
    nothing the lock holds that no dependency reaches."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from venvs import lock_requirements

    write(tmp_path, {"pyproject.toml": (
        '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "*"\nsqlalchemy = {extras = ["asyncio"], version = "*"}\n'
        'torch = [{url = "https://x/torch-linux.whl", markers = "sys_platform == \'linux\'"}]\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "*"\n'), "poetry.lock": (
        '[[package]]\nname = "fastapi"\nversion = "0.110.0"\n[package.dependencies]\n'
        'pywin32 = {version = ">=1", markers = "sys_platform == \\"win32\\""}\nstarlette = "*"\n'
        '[package.extras]\nall = ["ujson"]\n'
        '[[package]]\nname = "starlette"\nversion = "0.36.0"\n'
        '[[package]]\nname = "pywin32"\nversion = "306"\n'
        '[[package]]\nname = "ujson"\nversion = "5.0"\n'
        '[[package]]\nname = "sqlalchemy"\nversion = "2.0.29"\n[package.dependencies]\n'
        'greenlet = {version = "*", optional = true, markers = "extra == \\"asyncio\\""}\n'
        'typing-extensions = "*"\n[package.extras]\nasyncio = ["greenlet (!=0.4.17)"]\n'
        '[[package]]\nname = "greenlet"\nversion = "3.0.3"\n'
        '[[package]]\nname = "typing-extensions"\nversion = "4.11.0"\n'
        '[[package]]\nname = "torch"\nversion = "2.0.0+cpu"\n[package.source]\ntype = "url"\nurl = "https://x/torch-win.whl"\n'
        '[[package]]\nname = "torch"\nversion = "2.0.0+cpu"\n[package.source]\ntype = "url"\nurl = "https://x/torch-linux.whl"\n'
        '[[package]]\nname = "pytest"\nversion = "8.0.0"\n[[package]]\nname = "stale"\nversion = "1.0"\n')})
    assert lock_requirements(tmp_path / "poetry.lock", None, None, "3.11").splitlines() == [
        "fastapi==0.110.0", "greenlet==3.0.3", "pytest==8.0.0", "sqlalchemy==2.0.29", "starlette==0.36.0",
        "torch @ https://x/torch-linux.whl", "typing-extensions==4.11.0"]


def test_a_build_folder_whose_name_starts_like_a_scheme_is_a_local_folder(tmp_path: Path) -> None:
    """`build: httpapi` is the folder httpapi/, not a remote context: its Dockerfile names the image's Python."""
    from fixer.model.freshinstall import project_python_version

    compose = "services:\n  api:\n    build: httpapi\n    command: uvicorn main:app\n"
    root = write(tmp_path, {"main.py": SYNC_APP, "docker-compose.yml": compose,
                            "httpapi/Dockerfile": "FROM python:3.10-slim\nRUN pip install -r requirements.txt\n"})
    read = lambda rel: (root / rel).read_text()  # noqa: E731
    assert project_python_version(read, list(discover(root, [])), "docker-compose.yml") == "3.10"


def test_a_compose_start_takes_the_image_of_the_service_that_runs_the_server(tmp_path: Path) -> None:
    """A worker listed first builds another image on another Python: the api service's is the start's."""
    from fixer.model.freshinstall import install_plan, project_python_version

    compose = ("services:\n  worker:\n    build: ./worker\n    command: celery -A tasks worker\n"
               "  api:\n    build: .\n    command: uvicorn main:app --host 0.0.0.0\n")
    root = write(tmp_path, {"main.py": SYNC_APP, "docker-compose.yml": compose, "requirements.txt": "fastapi\n",
                            "Dockerfile": "FROM python:3.12\nRUN pip install -r requirements.txt\n",
                            "worker/requirements.txt": "celery\n",
                            "worker/Dockerfile": "FROM python:3.9\nRUN pip install -r requirements.txt\n"})
    read = lambda rel: (root / rel).read_text()  # noqa: E731
    paths = list(discover(root, []))
    assert project_python_version(read, paths, "docker-compose.yml") == "3.12"
    assert install_plan(read, paths, "docker-compose.yml").file == "requirements.txt"


def test_a_dockerfile_above_the_backend_that_copies_it_describes_its_install(tmp_path: Path) -> None:
    """`COPY app/pyproject.toml app/poetry.lock* /code/` in the folder above `app/`: that image (CPython 3.11,
    `poetry install`) is the backend's; a Dockerfile above that copies another folder is not."""
    from fixer.model.freshinstall import install_plan, project_python_version

    pyproject = '[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = ">3.9,<3.12"\nfastapi = "*"\n'
    lock = '[[package]]\nname = "fastapi"\nversion = "0.110.0"\n'
    docker = "FROM python:3.11-slim\nWORKDIR /code\nCOPY {src}/pyproject.toml {src}/poetry.lock* /code/\nRUN poetry install --no-root\n"
    for src, python, kind in (("app", "3.11", "lock"), ("worker", "3.10", "pyproject")):
        root = write(tmp_path / src, {"Dockerfile": docker.format(src=src), "app/main.py": SYNC_APP,
                                      "app/pyproject.toml": pyproject, "app/poetry.lock": lock})
        backend = root / "app"
        paths = list(discover(backend, []))

        def read(rel: str, backend: Path = backend) -> str | None:
            return (backend / rel).read_text() if (backend / rel).is_file() else None

        assert (project_python_version(read, paths), install_plan(read, paths).kind) == (python, kind)


def test_a_documented_or_folder_requirements_file_is_the_install(tmp_path: Path) -> None:
    """No requirements.txt at the top: the file a README documents installing (never its test list), else a
    requirements folder's main file; nothing when neither is there."""
    from fixer.model.freshinstall import install_plan

    cases = [
        ({"README.md": "```\npip install -r requirements/test_requirements.txt\n"
                       "pip install -r requirements/requirements.txt\n```\n",
          "requirements/requirements.txt": "fastapi\n", "requirements/test_requirements.txt": "pytest\n"},
         ("requirements", "requirements/requirements.txt")),
        ({"requirements/base.txt": "fastapi\n", "requirements/test.txt": "-r base.txt\npytest\n"},
         ("requirements", "requirements/base.txt")),
        ({"requirements/test.txt": "pytest\n"}, ("none", None)),
    ]
    for number, (files, expected) in enumerate(cases):
        root = write(tmp_path / str(number), {"main.py": SYNC_APP, **files})
        plan = install_plan(lambda rel, root=root: (root / rel).read_text(), list(discover(root, [])))
        assert (plan.kind, plan.file) == expected
    root = tmp_path / "1"
    assert failures(root) == ["ModuleNotFoundError: No module named 'sqlmodel'"]


def test_an_installed_distribution_named_after_a_project_folder_serves_its_imports(tmp_path: Path) -> None:
    """`from widgetkit.server import Server` beside the project's own `src/widgetkit/` (started from the backend,
    so not on the path): acme-widgetkit installs `widgetkit` when the project's module lacks the names taken;
    without that distribution, or when the project's module defines them, it is the project's, imported
    under the wrong root."""
    app = ("from fastapi import FastAPI\nfrom widgetkit.server import Server\nfrom src.widgetkit.own import Own\n"
           "app = FastAPI()\n")
    own = "from widgetkit.server import Server\n\nclass Own(Server):\n    pass\n"
    files = {"README.md": "uvicorn src.main:app\n", "src/__init__.py": "", "src/main.py": app,
             "src/widgetkit/__init__.py": "", "src/widgetkit/own.py": own, "src/widgetkit/server.py": "X = 1\n"}
    installed = write(tmp_path / "a", {**files, "requirements.txt": "fastapi\nuvicorn\nacme-widgetkit\n"})
    assert failures(installed) == []
    missing = write(tmp_path / "b", {**files, "requirements.txt": "fastapi\nuvicorn\n"})
    assert failures(missing)[:1] == ["ModuleNotFoundError: No module named 'widgetkit'"]
    defined = write(tmp_path / "c", {**files, "src/widgetkit/server.py": "class Server:\n    pass\n",
                                     "requirements.txt": "fastapi\nuvicorn\nacme-widgetkit\n"})
    assert failures(defined)[:1] == ["ModuleNotFoundError: No module named 'widgetkit'"]
