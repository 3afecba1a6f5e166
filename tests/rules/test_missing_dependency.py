"""FX023 missing-dependency: what the live code imports or loads, added to the main dependency file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.missing_dependency import MissingDependency
from tests.rules.project_helpers import fix

MAIN = """\
from fastapi import FastAPI, Form
from jose import jwt

from app.schemas import User

app = FastAPI()


@app.post("/login")
def login(username: str = Form(...)):
    return {"token": jwt.encode({"sub": username}, "k")}
"""
SCHEMAS = """\
from pydantic import BaseModel, EmailStr


class User(BaseModel):
    email: EmailStr
"""


def run(tmp_path: Path, files: dict[str, str], unsafe: bool = False):
    return fix(tmp_path, {"app/__init__.py": "", **files}, text_rules=[MissingDependency], unsafe=unsafe)


def test_requirements_get_what_the_code_needs(tmp_path: Path) -> None:
    changed, findings = run(
        tmp_path,
        {"requirements.txt": "fastapi>=0.110\npydantic>=2  # models\nuvicorn\n", "app/main.py": MAIN, "app/schemas.py": SCHEMAS},
    )
    assert changed == {
        "requirements.txt": "fastapi>=0.110\npython-multipart>=0.0.18\npydantic>=2  # models\n"
        "email-validator>=2.0.0\nuvicorn\npython-jose\n"
    }
    assert {f.defects for f in findings} == {("DEP-EMAIL",), ("DEP-MULTIPART",), ("DEP-JWT-LIB",)}
    assert all(f.safe and f.fixed for f in findings)


def test_pyproject_pep621_and_poetry(tmp_path: Path) -> None:
    pep621 = '[project]\nname = "x"\ndependencies = [\n    "fastapi>=0.110",\n    "pydantic>=2",\n]\n'
    changed, _ = run(tmp_path / "a", {"pyproject.toml": pep621, "app/main.py": MAIN, "app/schemas.py": SCHEMAS})
    assert changed["pyproject.toml"] == (
        '[project]\nname = "x"\ndependencies = [\n    "fastapi>=0.110",\n    "python-multipart>=0.0.18",\n'
        '    "pydantic>=2",\n    "email-validator>=2.0.0",\n    "python-jose",\n]\n'
    )
    poetry = '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.110"\npydantic = "^2"\n'
    changed, _ = run(tmp_path / "b", {"pyproject.toml": poetry, "app/main.py": MAIN, "app/schemas.py": SCHEMAS})
    assert changed["pyproject.toml"] == (
        '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.110"\npython-multipart = ">=0.0.7"\n'
        'pydantic = "^2"\nemail-validator = ">=2.0.0"\npython-jose = "*"\n'
    )


def test_declared_or_pulled_in_is_left_alone(tmp_path: Path) -> None:
    # fastapi[standard] brings python-multipart and email-validator; python-jose is declared with an extra.
    requirements = "fastapi[standard]>=0.115\npython-jose[cryptography]\n"
    changed, findings = run(tmp_path, {"requirements.txt": requirements, "app/main.py": MAIN, "app/schemas.py": SCHEMAS})
    assert changed == {} and findings == []
    changed, findings = run(
        tmp_path / "b",
        {"requirements.txt": "fastapi\npydantic[email]\npython-multipart\npyjwt\n", "app/main.py": MAIN.replace("from jose import jwt", "import jwt"), "app/schemas.py": SCHEMAS},
    )
    assert changed == {} and findings == []


def test_guarded_is_unsafe_and_unknown_neighbours_take_the_prediction(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\ntry:\n    import orjson\nexcept ImportError:\n    orjson = None\nimport yaml\n\napp = FastAPI()\n"
    # fixer's tables do not record what python-dotenv requires: had it brought yaml, a bare `pyyaml` line (no
    # floor that could clash with its pin) would change nothing; the prediction fails on `import yaml`.
    files = {"requirements.txt": "fastapi\npython-dotenv\n", "app/main.py": main}
    changed, findings = run(tmp_path / "a", files)
    assert changed == {"requirements.txt": "fastapi\npython-dotenv\npyyaml\n"}
    assert sorted((f.new_code, f.safe, f.fixed) for f in findings) == [("orjson", False, False), ("pyyaml", True, True)]
    assert "No module named 'yaml'" in next(f.evidence for f in findings if f.new_code == "pyyaml")
    changed, findings = run(tmp_path / "b", files, unsafe=True)
    assert changed == {"requirements.txt": "fastapi\npython-dotenv\norjson\npyyaml\n"}
    # uvicorn's requirements are recorded: plain uvicorn brings no yaml, uvicorn[standard] does.
    changed, _ = run(tmp_path / "c", {"requirements.txt": "fastapi\nuvicorn\n", "app/main.py": main})
    assert changed == {"requirements.txt": "fastapi\nuvicorn\npyyaml>=5.3.1\n"}
    assert run(tmp_path / "d", {"requirements.txt": "fastapi\nuvicorn[standard]\n", "app/main.py": main})[0] == {}


def test_tests_and_scripts_do_not_count(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "fastapi\n",
        "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        "tests/test_app.py": "import httpx\nfrom jose import jwt\n",
        "scripts/seed.py": "import yaml\nif __name__ == '__main__':\n    pass\n",
    }
    assert run(tmp_path, files) == ({}, [])


def test_aiosqlite_for_an_async_sqlite_engine(tmp_path: Path) -> None:
    db = 'from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine("sqlite+aiosqlite:///./app.db")\n'
    main = "from fastapi import FastAPI\nfrom app.db import engine\napp = FastAPI()\n"
    changed, findings = run(tmp_path, {"requirements.txt": "fastapi\nsqlalchemy>=2\n", "app/db.py": db, "app/main.py": main})
    assert changed == {"requirements.txt": "fastapi\nsqlalchemy>=2\naiosqlite\n"}
    assert findings[0].defects == ("URL-SQLITE",)


def test_each_backend_of_a_monorepo_gets_its_own(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\nfrom pydantic import BaseModel, EmailStr\n\napp = FastAPI()\n\n\nclass User(BaseModel):\n    email: EmailStr\n"
    files = {
        "pyproject.toml": '[tool.ruff]\nline-length = 100\n',
        "api/requirements.txt": "fastapi\n",
        "api/app/__init__.py": "",
        "api/app/main.py": main,
        "worker/requirements.txt": "fastapi\n",
        "worker/app/__init__.py": "",
        "worker/app/main.py": main.replace("EmailStr", "str") + "import yaml\n",
    }
    changed, _ = fix(tmp_path, files, text_rules=[MissingDependency])
    assert changed == {"api/requirements.txt": "fastapi\nemail-validator>=2.0.0\n", "worker/requirements.txt": "fastapi\npyyaml>=5.3.1\n"}


def test_requirements_beside_a_pyproject_that_installs_more(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\nfrom jose import jwt\n\napp = FastAPI()\n"
    pyproject = '[project]\nname = "x"\ndependencies = ["fastapi", "python-jose"]\n'
    files = {"app/__init__.py": "", "app/main.py": main, "pyproject.toml": pyproject, "requirements.txt": "fastapi\n"}
    # The pyproject declares python-jose itself: its line is copied, whichever file the deploy installs from.
    changed, findings = fix(tmp_path / "a", files, text_rules=[MissingDependency])
    assert changed == {"requirements.txt": "fastapi\npython-jose\n"}
    assert [(f.new_code, f.safe, f.fixed) for f in findings] == [("python-jose", True, True)]
    pinned = {**files, "pyproject.toml": pyproject.replace('"python-jose"', '"python-jose>=3.3"')}
    assert fix(tmp_path / "b", pinned, text_rules=[MissingDependency])[0] == {"requirements.txt": "fastapi\npython-jose>=3.3\n"}


def test_an_empty_requirements_file_beside_a_pyproject_is_left_empty(tmp_path: Path) -> None:
    """pip installs nothing from an empty requirements.txt and every install passes it over for the pyproject:
    copying the pyproject's lines into it would make it the route and lose the rest (pydantic-settings). Once the
    project documents installing it alone, it is a route of its own."""
    main = "from fastapi import FastAPI\nfrom pydantic_settings import BaseSettings\n\napp = FastAPI()\n"
    pyproject = '[project]\nname = "x"\ndependencies = ["fastapi", "pydantic-settings"]\n'
    files = {"app/__init__.py": "", "app/main.py": main, "pyproject.toml": pyproject, "requirements.txt": ""}
    changed, findings = fix(tmp_path / "a", files, text_rules=[MissingDependency])
    assert changed == {} and findings == []
    documented = {**files, "README.md": "pip install -r requirements.txt\nuvicorn app.main:app\n"}
    changed, _ = fix(tmp_path / "b", documented, text_rules=[MissingDependency])
    assert changed == {"requirements.txt": "fastapi\npydantic-settings>=2.0.0\n"}


def test_an_install_documented_in_any_markdown_file(tmp_path: Path) -> None:
    from fixer.model.installs import documented

    texts = {"CLAUDE.md": "## Setup\n```bash\ncd backend\npip install -r requirements.txt\n```\n", "backend/requirements.txt": "fastapi\n"}
    assert documented(texts.get, list(texts)) == {"backend/requirements.txt": "CLAUDE.md"}


def test_email_str_imported_but_never_in_a_schema_is_left_alone(tmp_path: Path) -> None:
    # pydantic 2: `from pydantic import EmailStr` works without email-validator; only building a schema with
    # it (a model field, a route parameter) fails. A plain function's annotation builds none.
    main = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel, EmailStr\n\napp = FastAPI()\n\n\n"
        "def normalise(email: EmailStr) -> str:\n    return email.lower()\n\n\nclass Token(BaseModel):\n    sub: str\n"
    )
    changed, findings = run(tmp_path, {"requirements.txt": "fastapi\npydantic>=2\n", "app/main.py": main})
    assert changed == {} and findings == []


def test_email_str_as_a_route_parameter_needs_email_validator(tmp_path: Path) -> None:
    main = (
        "from fastapi import FastAPI\nfrom pydantic import EmailStr as Email\n\napp = FastAPI()\n\n\n"
        "@app.get('/users')\nasync def find(email: Email):\n    return []\n"
    )
    changed, findings = run(tmp_path, {"requirements.txt": "fastapi\npydantic>=2\n", "app/main.py": main})
    assert changed == {"requirements.txt": "fastapi\npydantic>=2\nemail-validator>=2.0.0\n"}
    assert findings[0].safe


def test_email_str_field_of_a_model_built_in_a_function_is_unsafe(tmp_path: Path) -> None:
    main = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel, EmailStr\n\napp = FastAPI()\n\n\n"
        "def make():\n    class User(BaseModel):\n        email: EmailStr\n    return User\n"
    )
    changed, findings = run(tmp_path, {"requirements.txt": "fastapi\npydantic>=2\n", "app/main.py": main})
    assert changed == {} and [(f.safe, f.fixed) for f in findings] == [(False, False)]


def test_one_finding_for_the_plain_imports_an_empty_file_lacks(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\nfrom sqlmodel import SQLModel\nimport yaml\n\napp = FastAPI()\n"
    changed, findings = run(tmp_path, {"requirements.txt": "", "app/main.py": main})
    assert changed == {"requirements.txt": "fastapi\npyyaml\nsqlmodel\n"}
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.safe, finding.fixed, finding.new_code) == (True, True, "fastapi\npyyaml\nsqlmodel")
    assert all(name in finding.problem for name in ("fastapi", "sqlmodel", "yaml"))


@pytest.mark.parametrize(
    ("doc", "text"),
    [
        ("Dockerfile", "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"),
        ("README.md", "# Todo\n\n```bash\ncd backend\npip install -r requirements.txt\n```\n"),
    ],
)
def test_requirements_the_project_documents_installing_alone(tmp_path: Path, doc: str, text: str) -> None:
    # pyproject.toml declares python-jose, but the documented install reads requirements.txt alone.
    main = "from fastapi import FastAPI\nfrom jose import jwt\n\napp = FastAPI()\n"
    pyproject = '[project]\nname = "x"\ndependencies = ["fastapi", "python-jose"]\n'
    files = {"backend/app/__init__.py": "", "backend/app/main.py": main, "backend/pyproject.toml": pyproject,
             "backend/requirements.txt": "fastapi\n", ("backend/" if doc == "Dockerfile" else "") + doc: text}
    changed, findings = fix(tmp_path, files, text_rules=[MissingDependency])
    assert changed == {"backend/requirements.txt": "fastapi\npython-jose\n"}
    assert [(f.safe, f.fixed) for f in findings] == [(True, True)]


def test_what_only_a_lock_holds_is_not_copied(tmp_path: Path) -> None:
    # The lock's python-jose may be a dependency of a dependency: the project never asked for it by name.
    main = "from fastapi import FastAPI\nfrom jose import jwt\n\napp = FastAPI()\n"
    pyproject = '[project]\nname = "x"\ndependencies = ["fastapi"]\n'
    lock = 'version = 1\n\n[[package]]\nname = "fastapi"\nversion = "0.115.0"\n\n[[package]]\nname = "python-jose"\nversion = "3.3.0"\n'
    files = {"app/__init__.py": "", "app/main.py": main, "pyproject.toml": pyproject, "uv.lock": lock, "requirements.txt": "fastapi\n",
             "README.md": "```bash\npip install -r requirements-dev.txt\npip install .\n```\n"}
    changed, findings = fix(tmp_path, files, text_rules=[MissingDependency])
    assert changed == {} and [(f.safe, f.fixed) for f in findings] == [(False, False)]


def test_basesettings_on_a_pydantic_1_pin_gets_no_pydantic_settings(tmp_path: Path) -> None:
    # pydantic 1 has BaseSettings itself, and no pydantic-settings release installs beside pydantic 1: adding it
    # to the file the Dockerfile installs makes that install unresolvable.
    main = "from fastapi import FastAPI\n\nfrom app.settings import Settings\n\napp = FastAPI()\n"
    settings = "from pydantic import BaseSettings\n\n\nclass Settings(BaseSettings):\n    debug: bool = False\n"
    pyproject = '[project]\nname = "x"\ndependencies = ["fastapi", "pydantic-settings"]\n'
    files = {"app/__init__.py": "", "app/main.py": main, "app/settings.py": settings, "pyproject.toml": pyproject,
             "requirements.txt": "fastapi==0.95.0\npydantic==1.10.6\n",
             "Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"}
    changed, _ = fix(tmp_path, files, text_rules=[MissingDependency])
    assert changed == {}


def test_an_unknown_plugin_named_after_what_brings_the_module_makes_it_uncertain(tmp_path: Path) -> None:
    """acme-sqlmodel-admin's requirements are unknown, but its name says it builds on sqlmodel, which requires
    sqlalchemy: neither import is predicted missing, so no line for them is added as safe. argon2-cffi, named by
    nothing installed, is still missing and added."""
    main = "from fastapi import FastAPI\nimport sqlalchemy\nimport sqlmodel\nimport argon2\n\napp = FastAPI()\n"
    files = {"requirements.txt": "fastapi\nacme-sqlmodel-admin==1.0\n", "app/main.py": main}
    changed, findings = run(tmp_path / "a", files)
    assert changed == {"requirements.txt": "fastapi\nacme-sqlmodel-admin==1.0\nargon2-cffi\n"}
    assert not any("sql" in f.new_code for f in findings if f.safe)
    # a plugin of a framework fixer knows by name only (celery): what it brings is unknown, nothing is safe
    files = {"requirements.txt": "fastapi\ncelery-acme-beat==2.0\n", "app/main.py": "from fastapi import FastAPI\nimport redis\napp = FastAPI()\n"}
    changed, findings = run(tmp_path / "b", files)
    assert changed == {} and findings and not any(f.safe for f in findings)


def test_a_module_an_sdk_brings_through_its_requirements_is_not_missing(tmp_path: Path) -> None:
    # google-generativeai requires google-api-core, which requires requests (fixer/data/requires.json): an
    # `import requests` beside it is installed by a fresh install, and no line is added.
    main = "from fastapi import FastAPI\nimport requests\n\napp = FastAPI()\n"
    files = {"requirements.txt": "fastapi\ngoogle-generativeai==0.8.3\n", "app/main.py": main}
    changed, findings = run(tmp_path, files)
    assert changed == {} and findings == []


def test_a_library_import_named_like_a_project_file_elsewhere(tmp_path: Path) -> None:
    # `import jwt` in src/auth/tokens.py means the library: src/auth/ is on no sys.path of `uvicorn src.main:app`,
    # so the project's src/auth/jwt.py is not what it gets. The prediction fails on it; the import lines alone
    # took it for the project's file.
    files = {
        "src/__init__.py": "",
        "src/auth/__init__.py": "",
        "src/auth/jwt.py": "SECRET = 'k'\n",
        "src/auth/tokens.py": "import jwt\n\nfrom .jwt import SECRET\n\n\ndef make(sub):\n    return jwt.encode({'sub': sub}, SECRET)\n",
        "src/main.py": "from fastapi import FastAPI\n\nfrom src.auth.tokens import make\n\napp = FastAPI()\n",
        "README.md": "```bash\nuvicorn src.main:app\n```\n",
    }
    changed, findings = fix(tmp_path, {**files, "requirements.txt": "fastapi\nuvicorn\n"}, text_rules=[MissingDependency])
    assert changed == {"requirements.txt": "fastapi\nuvicorn\npyjwt\n"}
    assert [(f.defects, f.safe, f.fixed) for f in findings] == [(("DEP-JWT-LIB",), True, True)]
    # Declared: nothing to add.
    changed, findings = fix(tmp_path / "b", {**files, "requirements.txt": "fastapi\nuvicorn\nPyJWT\n"}, text_rules=[MissingDependency])
    assert changed == {} and findings == []
    # A start from src/auth/ would import the project's jwt.py: the import lines stay the project's then.
    own = {**files, "src/auth/main.py": "from fastapi import FastAPI\n\nimport jwt\n\napp = FastAPI()\n",
           "README.md": "```bash\ncd src/auth\nuvicorn main:app\n```\n"}
    del own["src/main.py"]
    changed, findings = fix(tmp_path / "c", {**own, "requirements.txt": "fastapi\nuvicorn\n"}, text_rules=[MissingDependency])
    assert changed == {} and findings == []
