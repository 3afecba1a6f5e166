"""What a person does about each startup failure family no rule fixes, and how FX030 files it (category, the
defect-catalogue IDs). Read by the startup checks (`fixer.rules.startup_checks`)."""

from __future__ import annotations

from fixer.model.startup import Failure
from fixer.rules.findings import Category

__all__ = ["CATEGORY", "DEFECTS", "advice"]

CATEGORY = {
    "missing-dependency": Category.DEPENDENCY,
    "email-validator": Category.DEPENDENCY,
    "multipart": Category.DEPENDENCY,
    "greenlet": Category.DEPENDENCY,
    "moved-name": Category.DEPENDENCY,
    "async-driver": Category.DEPENDENCY,
    "sync-driver": Category.DATABASE,
    "sqlite-async": Category.DATABASE,
    "async-driver-url": Category.DATABASE,
    "static-dir": Category.CONFIG,
    "env-file": Category.CONFIG,
    "url-cleaner": Category.CONFIG,
    "url-query-glued": Category.CONFIG,
    "migration-revisions": Category.CONFIG,
    "compose-host": Category.CONFIG,
    "settings-url": Category.CONFIG,
    "settings-decode": Category.CONFIG,
    "start-command": Category.ENTRYPOINT,
    "outside-import": Category.IMPORT,
    "empty-setting": Category.CONFIG,
    "unparsable-url": Category.CONFIG,
    "server-loop": Category.DEPENDENCY,
    "annotated-default": Category.IMPORT,
    "annotated-marker": Category.IMPORT,
    "missing-app": Category.ENTRYPOINT,
}
DEFECTS = {
    "unresolved-import": ("APP-UVICORN-PATH",),
    "relative-import": ("APP-UVICORN-PATH",),
    "circular-import": ("APP-CIRCULAR",),
    "moved-name": ("DEP-BASESETTINGS",),
    "async-import": ("ENG-IMPORT",),
    "async-engine": ("ENG-IMPORT",),
    "email-validator": ("DEP-EMAIL",),
    "multipart": ("DEP-MULTIPART",),
    "greenlet": ("ENG-GREENLET",),
    "async-driver-url": ("URL-PLAIN",),
    "async-driver": ("DEP-DRIVER",),
    "sync-driver": ("ENG-SYNC-DEFAULT-DRIVER",),
    "sqlite-async": ("ENG-SQLITE-ASYNC",),
    "url-cleaner": ("URL-OWN-CLEANER-CORRUPTS",),
    "url-query-glued": ("URL-OWN-CLEANER-CORRUPTS",),
    "compose-host": ("URL-WHERE",),
    "unparsable-url": ("URL-WHERE",),
}
_START = "Fix the start command (module path, --app-dir or the folder it runs from)."
_ADVICE = {
    "circular-import": "Break the cycle: import the module rather than the name (`from app import models`), move the "
                       "import into the function that needs it, or use `TYPE_CHECKING` imports with string annotations.",
    "missing-name": "Import the name from the module that defines it, or define it there.",
    "settings-url": "Set DATABASE_URL to the postgresql+asyncpg:// form on the platform, or make the validator turn "
                    "postgresql:// into it instead of raising.",
    "settings-decode": "Write the value as JSON (`[\"https://a.example\", \"https://b.example\"]`) where the "
                       "environment is set, or keep the comma form and annotate the field `Annotated[list[str], "
                       "NoDecode]` (pydantic-settings >= 2.7) with a `mode=\"before\"` validator that splits a string "
                       "on commas (and reads one starting with `[` as JSON).",
    "env-file": "Create the env file the detail names (from the project's example env file, if it ships one), or "
                "pass the environment instead of a file.",
    "url-cleaner": "Fix the project's URL code: remove a parameter together with its own `?` or `&`, never the "
                   "separator of the next one (urllib.parse or SQLAlchemy's make_url do it right).",
    "url-query-glued": "Add the parameter as the URL's query allows (`&` after an existing query, or "
                       "`make_url(url).update_query_dict({...})`), and only one the driver the URL names accepts.",
    "migration-revisions": "Make the revision files one chain: point `down_revision` at a revision that exists, give a "
                           "revision id written twice its own, or join the heads with `alembic merge heads`.",
    "compose-host": "Read the URL the platform sets (DATABASE_URL) where the connection gets it (in alembic's env.py: "
                    "`config.set_main_option(\"sqlalchemy.url\", ...)`), or point the URL at the platform database: a "
                    "compose host resolves only on compose's network.",
    "log-dir": "Create the folder before the handler (`os.makedirs(folder, exist_ok=True)`), ship it with a "
               ".gitkeep, or log to stdout where the platform collects it.",
    "static-dir": "Create the folder (with a .gitkeep) or pass `check_dir=False`, or mount it relative to the module file.",
    "start-command": _START,
    "missing-app": _START,
    "sqlite-async": "Give the async engine `sqlite+aiosqlite:///...` and add `aiosqlite` to the requirements.",
    "syntax": "Fix the syntax error.",
    "annotated-marker": "Keep one FastAPI marker per parameter: the one in `Annotated[...]` or the default, not both "
                        "(a default value goes after `=`, the marker inside `Annotated`).",
    "server-loop": "Raise uvicorn to 0.15 or later (it starts its own event loop), or cap uvloop below 0.22 where "
                   "the CPython is older than 3.14.",
    "unparsable-url": "Give the engine the URL the platform sets: read its variable from the environment where the "
                      "engine gets it (`os.environ[...]` or a settings class; `dotenv_values()` reads only the file).",
    "empty-setting": "Set the variable where the app is deployed, or give the field a non-empty default.",
    "outside-import": "Bring the module into the backend folder (or install it as a package) and import it from "
                      "there: relative imports stop at the top-level package the start imports.",
}


def advice(failure: Failure) -> str:
    return _ADVICE.get(failure.family, "Fix it by hand.")
