"""Report-only checks of the startup path, read from the project model's startup walk (`fixer.model.startup`).

None of these edits a file: each turns what the walk found into findings. FX030 gives the predicted startup
failures in the order a person would meet them (a failure another rule fixes points at that rule);
FX031-FX036 are the structural checks that need the import order.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from fixer.rules.findings import Category, FileResult, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.startup import Failure, Prediction
from fixer.rules.base import TextRule
from fixer.rules.startup_advice import CATEGORY, DEFECTS, advice

__all__ = [
    "CircularImport",
    "ModelsNotImported",
    "RouterNeverIncluded",
    "StartCommandMissing",
    "StartCommandsDisagree",
    "StartupFailure",
    "SysPathMissing",
    "TablesNeverCreated",
    "settle",
]


class _StartupRule(TextRule):
    """Reads no file: the findings come from the model (`missing`)."""

    REPORT_ONLY: ClassVar[bool] = True  # never named as the rule that fixes a defect (fixer verify's diagnosis)

    def applies_to(self, path: str) -> bool:
        return False


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _failure_finding(rule: str, failure: Failure, index: int, total: int, prediction: Prediction,
                     python: str) -> Finding:
    start = prediction.start.describe()
    fixer_rule = " or ".join(failure.fixers)
    masked = "" if index == total else f" Fixing it uncovers the next ({_ordinal(index + 1)} of {total})."
    chain = " -> ".join(failure.chain) if failure.chain else prediction.start.module
    if fixer_rule:
        what = f"{_APPLY_FIXES} ({fixer_rule})."
    else:
        what = advice(failure)
    return Finding(
        rule=rule,
        category=CATEGORY.get(failure.family, Category.IMPORT),
        severity=Severity.CRITICAL,
        problem=f"Startup failure {index} of {total} when started as {start}: {failure}",
        root_cause=(failure.detail or f"{failure.exception} raised while importing {chain}")
        + f" (import chain: {chain}).{masked}",
        old_code=failure.path and f"{failure.path}:{failure.line}",
        new_code="",
        explanation=what,
        fixed=False,
        defects=DEFECTS.get(failure.family, ()),
        line=failure.line or None,  # a pin only a requirement pulls in is written on no line of the project
        evidence=f"static walk of the imports from {start}, CPython {python}",
        startup_order=index,
    )


def _located(path: str, finding: Finding) -> tuple[str, Finding]:
    return (path or "README.md", finding)


class StartupFailure(_StartupRule):
    """FX030 startup-failure: The exceptions starting the server would raise, predicted in order

    ## What it does
    Walks the imports the documented start command runs (README, Dockerfile, Procfile, docker-compose, vercel.json,
    `[project.scripts]`, `uvicorn.run(...)`; `--entrypoint`/`--run-from` override) without running anything, and
    reports each exception the real start would raise, in the order they come: the first, then the one that
    comes once the first is fixed, and so on. A failure another rule fixes names that rule. Where no startup hook
    connects, what the first connection raises comes after the start, at the first request that uses the database:
    the project's own URL code run on the platform URL (`?sslmode=require&channel_binding=require`) and cutting the
    `?` with the parameter, so that the database name becomes `db&channel_binding=require`
    (URL-OWN-CLEANER-CORRUPTS), is reported then. A collection field of a settings class (`list[str]`) that the
    shipped `.env.example` gives as comma-separated text stops `Settings()`: pydantic-settings reads it as JSON.

    ## Why is this bad?
    The server does not start. The first error hides the next: `ModuleNotFoundError: No module named 'core'`
    (APP-UVICORN-PATH), then `ModuleNotFoundError: No module named 'jose'` (DEP-JWT-LIB), then
    `pydantic.errors.PydanticImportError: BaseSettings has been moved to the pydantic-settings package`
    (DEP-BASESETTINGS), then `ImportError: The SQLAlchemy asyncio module requires that the Python 'greenlet'
    library is installed` (ENG-GREENLET). Settings without defaults read at import are listed as environment
    variables to set, not as defects.

    ## Example
    ```python
    # started as uvicorn src.main:app from backend/
    from core.config import settings  # backend/src/core/config.py
    ```

    ## Use instead
    ```python
    from src.core.config import settings
    ```

    ## Fix safety
    Report only: each finding says which rule fixes it (`fixer apply`), or what a person must do.
    """

    RULE_ID: ClassVar[str] = "FX030"
    RULE_NAME: ClassVar[str] = "startup-failure"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH", "DEP-JWT-LIB", "DEP-EMAIL", "DEP-MULTIPART", "ENG-GREENLET",
                                          "URL-OWN-CLEANER-CORRUPTS")

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        prediction = facts.startup.primary
        if prediction is None:
            return []
        own = [f for f in prediction.failures if f.family not in _OTHER_RULES]
        total = len(prediction.failures)
        out = []
        for index, failure in enumerate(prediction.failures, start=1):
            if failure in own:
                out.append(_located(failure.path, _failure_finding(self.RULE_ID, failure, index, total, prediction,
                                                                       facts.startup.python)))
        # The start is up, the first request that uses the database is not: what no rule fixes is said here.
        for failure in prediction.first_connect:
            if not failure.fixers:
                finding = _failure_finding(self.RULE_ID, failure, 1, 1, prediction, facts.startup.python)
                out.append(_located(failure.path, dataclasses.replace(
                    finding, problem=f"First database connection fails once started as "
                                     f"{prediction.start.describe()} (no startup hook connects, so the first request "
                                     f"that uses the database meets it): {failure}",
                    root_cause=failure.detail + ".", startup_order=None)))
        return out


class CircularImport(_StartupRule):
    """FX031 circular-import: Modules that import each other so that a name is read before it is defined

    ## What it does
    Reports the import cycle the startup walk meets, with every module in it, where a module imports a name
    from a module that is still being initialised.

    ## Why is this bad?
    `ImportError: cannot import name 'User' from partially initialized module 'app.models.user' (most likely due
    to a circular import)` (APP-CIRCULAR): the server does not start.

    ## Example
    ```python
    # app/models/user.py
    from app.models.task import Task
    # app/models/task.py
    from app.models.user import User
    ```

    ## Use instead
    ```python
    # app/models/task.py
    from typing import TYPE_CHECKING
    if TYPE_CHECKING:
        from app.models.user import User
    ```

    ## Fix safety
    Report only: which import to move is a design decision.
    """

    RULE_ID: ClassVar[str] = "FX031"
    RULE_NAME: ClassVar[str] = "circular-import"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-CIRCULAR",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        return _family(self.RULE_ID, facts, ("circular-import",))


class StartCommandMissing(_StartupRule):
    """FX034 start-command-missing: A start command names a module or file that is not there

    ## What it does
    Reports a documented start (README, Dockerfile, Procfile, compose, vercel.json) whose app module cannot be
    found from the folder it runs in, and a `fastapi run FILE` / vercel `src` naming a file that does not exist.

    ## Why is this bad?
    uvicorn prints `Error loading ASGI app. Could not import module "main".` (Python:
    `ModuleNotFoundError: No module named 'main'`) and exits.

    ## Example
    ```dockerfile
    CMD ["uvicorn", "main:app"]   # main.py is src/main.py
    ```

    ## Use instead
    ```dockerfile
    CMD ["uvicorn", "src.main:app"]
    ```

    ## Fix safety
    Report only.
    """

    RULE_ID: ClassVar[str] = "FX034"
    RULE_NAME: ClassVar[str] = "start-command-missing"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        out = _family(self.RULE_ID, facts, ("start-command", "missing-app"))
        for prediction in facts.startup.predictions:
            start = prediction.start
            if start.names_file and not _exists(facts, start.names_file):
                where = start.where or ("README.md", 1)
                out.append((where[0], Finding(
                    rule=self.RULE_ID, category=Category.ENTRYPOINT, severity=Severity.CRITICAL,
                    problem=f"{start.source} starts {start.names_file}, which does not exist",
                    root_cause=f"{start.describe()} names a file that is not in the project.",
                    old_code=start.command, new_code="", explanation="Name the file that builds the app.",
                    fixed=False, line=where[1], defects=("APP-UVICORN-PATH",),
                )))
        return out


def _exists(facts: ProjectModel, rel: str) -> bool:
    return rel in facts.roles or rel.startswith("..")


class SysPathMissing(_StartupRule):
    """FX033 sys-path-missing: A sys.path edit adds a folder that does not exist

    ## What it does
    Reports `sys.path.insert(...)`/`sys.path.append(...)` executed at import whose folder (worked out from
    `__file__` and the start folder) does not exist.

    ## Why is this bad?
    The imports the edit was meant to make work fail: `ModuleNotFoundError: No module named '...'`
    (APP-UVICORN-PATH), and the edit hides where the real import root is.

    ## Example
    ```python
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "backend"))  # no such folder
    ```

    ## Use instead
    ```python
    # no sys.path edit: start the app from the folder its imports are written for
    ```

    ## Fix safety
    Report only.
    """

    RULE_ID: ClassVar[str] = "FX033"
    RULE_NAME: ClassVar[str] = "sys-path-missing"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        prediction = facts.startup.primary
        if prediction is None:
            return []
        return [
            (path, Finding(
                rule=self.RULE_ID, category=Category.IMPORT, severity=Severity.MEDIUM,
                problem=f"sys.path gets {folder}/, which does not exist",
                root_cause=f"The sys.path edit at {path}:{line} adds a folder that is not there when started as "
                           f"{prediction.start.describe()}.",
                old_code="", new_code="", explanation="Remove the edit, or point it at the folder the imports need.",
                fixed=False, line=line, defects=("APP-UVICORN-PATH",),
            ))
            for path, line, folder, exists in prediction.sys_path_edits
            if not exists
        ]


class RouterNeverIncluded(_StartupRule):
    """FX032 router-never-included: An APIRouter whose routes the app never serves

    ## What it does
    Reports an `APIRouter()` in a module the start never imports, or one no `include_router(...)` reaches. It is
    decided by the router object, not its name (`users.router` and `posts.router` are two routers), followed
    through imports, re-exports, loops over a list another module builds (`for r in routers.ALL:`), `.append`,
    and what a project function returns; a router included only into a router the app never includes is not
    served either.

    ## Why is this bad?
    Every route on it answers `404 {"detail":"Not Found"}` (APP-ROUTER).

    ## Example
    ```python
    # app/api/tasks.py
    router = APIRouter(prefix="/tasks")
    # app/main.py: no app.include_router(tasks.router)
    ```

    ## Use instead
    ```python
    from app.api import tasks
    app.include_router(tasks.router)
    ```

    ## Fix safety
    Report only: a router may be left out on purpose.
    """

    RULE_ID: ClassVar[str] = "FX032"
    RULE_NAME: ClassVar[str] = "router-never-included"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-ROUTER",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        return [
            (u.path, Finding(
                rule=self.RULE_ID, category=Category.ENTRYPOINT, severity=Severity.HIGH,
                problem=f"`{u.name}` is an APIRouter the app never includes",
                root_cause=f"{u.why}: its routes answer 404.", old_code=f"{u.name} = APIRouter(...)", new_code="",
                explanation=f"`app.include_router(...{u.name})` where the app is built, or delete the router.",
                fixed=False, line=u.line, defects=self.DEFECTS,
            ))
            for u in facts.startup.routers_unincluded
        ]


class ModelsNotImported(_StartupRule):
    """FX035 models-not-imported: Table models the app never imports before create_all()

    ## What it does
    Reports a `class X(SQLModel, table=True)` in a module the start never imports, when the app creates its
    tables with `metadata.create_all(...)`. A model that nothing the app loads names (neither its class nor its
    table) breaks no start and no request: it is reported as a note, which costs no exit 1.

    ## Why is this bad?
    `create_all` only creates the tables of imported models: the first query fails with
    `ProgrammingError: relation "x" does not exist` (ENG-MODELS-IMPORT).

    ## Example
    ```python
    async def init_db():
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)  # app/models/task.py never imported
    ```

    ## Use instead
    ```python
    async def init_db():
        from app.models import task  # noqa: F401  registers the table
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
    ```

    ## Fix safety
    Report only.
    """

    RULE_ID: ClassVar[str] = "FX035"
    RULE_NAME: ClassVar[str] = "models-not-imported"
    DEFECTS: ClassVar[tuple[str, ...]] = ("ENG-MODELS-IMPORT",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        return [
            (u.path, Finding(
                rule=self.RULE_ID, category=Category.DATABASE, severity=Severity.HIGH,
                problem=f"Table model `{u.name}` is never imported before create_all()",
                root_cause=f"{u.why}." + ("" if u.used else " Nothing the app imports names the model or its"
                                                            " table, so no start or request fails on it."),
                old_code=f"class {u.name}(..., table=True)", new_code="",
                explanation="Import the models module where the tables are created (or in the models package's __init__).",
                fixed=False, line=u.line, defects=self.DEFECTS, note=not u.used,
            ))
            for u in facts.startup.tables_unimported
        ]


class TablesNeverCreated(_StartupRule):
    """FX045 tables-never-created: Nothing the start runs creates the tables of its models

    ## What it does
    Reports, once, a backend whose start imports table models while no startup hook reaches `create_all`, no
    migration (`env.py` beside `versions/`) or SQL script creates tables, and no lifespan would (FX044): it names
    the function that creates them and that nothing calls (where the app's module cannot simply get a lifespan
    that calls it, FX046), the script whose `__main__` block alone creates them when no document of the start
    (README, Dockerfile, Procfile, compose file, Makefile, shell script) names it, or says that no code of the app creates them
    while its tests or scripts do (tables that may come from elsewhere, a console or another service, are not
    reported).

    ## Why is this bad?
    The app starts and answers `/docs`, then every route that touches a table fails with
    `ProgrammingError: relation "..." does not exist` (APP-LIFESPAN-UNUSED).

    ## Example
    ```python
    def create_db_and_tables():  # nothing calls it
        SQLModel.metadata.create_all(engine)
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        create_db_and_tables()
        yield

    app = FastAPI(lifespan=lifespan)
    ```
    (or migrations run before the server: `alembic upgrade head && uvicorn ...`).

    ## Fix safety
    Report only: where the tables should be made (a lifespan, a release command, migrations) is the project's
    choice. FX044 and FX046 run a plain creator from the app's startup; a lifespan or function that drops the
    tables first (`drop_all`, `op.drop_table`, `DROP TABLE` SQL, itself or through what it calls) is reported
    here and never run: at each restart it would empty every table.
    """

    RULE_ID: ClassVar[str] = "FX045"
    RULE_NAME: ClassVar[str] = "tables-never-created"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-LIFESPAN-UNUSED",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        never = facts.startup.tables_never_created
        if never is None or never.kind == "lifespan" and not never.drops or never.module:  # FX044, FX046 fix those
            return []
        models = ", ".join(never.models)
        if never.drops:
            problem = (f"The lifespan `{never.name}` creates the tables but is never passed to `FastAPI(...)`"
                       if never.kind == "lifespan" else f"`{never.name}()` creates the tables, but nothing calls it")
            # "first" only where the walk saw the drop come before the creation; otherwise the order is not known.
            problem += ", and it drops them first" if never.drops_first else ", and it also drops them"
            what = (f"`{never.name}` reaches `{never.drops}`: run at startup it would empty every table at each "
                    "restart, so fixer does not run it. Create the tables without dropping them (`create_all` alone, "
                    "from the app's lifespan), or run migrations before the server.")
        elif never.kind == "uncalled":
            problem = f"`{never.name}()` creates the tables, but nothing calls it"
            what = f"Call `{never.name}()` from the app's lifespan (before its `yield`), or run migrations before the server."
        elif never.kind == "script":
            problem = f"Only the script {never.path} creates the tables, and no document of the start runs it"
            what = (f"Run {never.path} before the first start and say so where the start is documented (README, "
                    "Dockerfile, Procfile), or create the tables at startup (from the app's lifespan).")
        else:
            problem = "Nothing the project runs creates the tables of its models"
            what = ("Create them at startup (`SQLModel.metadata.create_all(engine)` in the lifespan) or add migrations "
                    "run before the server.")
        return [(never.path, Finding(
            rule=self.RULE_ID, category=Category.DATABASE, severity=Severity.HIGH,
            problem=problem,
            root_cause=f"The start imports the table models {models}, but no startup hook reaches `create_all` and "
                       "the project has no migrations or SQL script. " + "The first request that touches one fails with `ProgrammingError: relation \"...\" does not exist`.",
            old_code=f"{never.path}:{never.line}", new_code="", explanation=what, fixed=False, line=never.line,
            defects=self.DEFECTS, evidence="fixer's walk of the start, its startup hooks and the project's files",
        ))]


class StartCommandsDisagree(_StartupRule):
    """FX036 start-commands-disagree: The README, Dockerfile, Procfile... start the app differently

    ## What it does
    Reports when the documented starts name different apps or folders and so meet different first results
    (a failure, or a clean import), with the first result of each. When the start fixer judges the project by
    (the most authoritative: a deploy file's) imports cleanly, the report is a note and costs no exit 1. Starts
    that meet the same first result are left alone; a `uvicorn.run()` under `if __name__ == "__main__":` counts only when nothing else documents a
    start or when its first result differs from the documented start's.

    ## Why is this bad?
    One of them is out of date: a README's `uvicorn main:app` beside a Dockerfile's `uvicorn src.main:app`
    means one fails with `ModuleNotFoundError` (APP-UVICORN-PATH) for whoever follows it.

    ## Example
    ```text
    README.md:   uvicorn main:app --reload
    Dockerfile:  CMD ["uvicorn", "src.main:app"]
    ```

    ## Use instead
    ```text
    README.md:   uvicorn src.main:app --reload
    ```

    ## Fix safety
    Report only.
    """

    RULE_ID: ClassVar[str] = "FX036"
    RULE_NAME: ClassVar[str] = "start-commands-disagree"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-UVICORN-PATH",)

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        differing = facts.startup.differing
        if not differing:
            return []
        firsts = "; ".join(
            f"{p.start.describe()} " + (f"fails first with {p.failures[0]}" if p.failures else "imports cleanly")
            for p in differing
        )
        where = differing[0].start.where or ("README.md", 1)
        primary = facts.startup.primary
        primary_clean = primary is not None and not primary.failures
        return [(where[0], Finding(
            rule=self.RULE_ID, category=Category.ENTRYPOINT, severity=Severity.MEDIUM,
            problem="The documented start commands disagree",
            root_cause=f"The starts give different first results: {firsts}.",
            old_code="", new_code="", explanation="Keep one start command and make the others the same.",
            fixed=False, line=where[1], defects=self.DEFECTS,
            # The start fixer judges the project by imports cleanly: the others are for a person to check, and
            # cost no exit 1. When it fails, FX030 reports that failure.
            note=primary_clean,
        ))]


_APPLY_FIXES = "`fixer apply` fixes it"
_OTHER_RULES = frozenset({"circular-import", "start-command", "missing-app"})


def _family(rule: str, facts: ProjectModel, families: tuple[str, ...]) -> list[tuple[str, Finding]]:
    prediction = facts.startup.primary
    if prediction is None:
        return []
    total = len(prediction.failures)
    return [
        _located(f.path, _failure_finding(rule, f, i, total, prediction, facts.startup.python))
        for i, f in enumerate(prediction.failures, start=1)
        if f.family in families
    ]


STARTUP_RULES = (StartupFailure, CircularImport, RouterNeverIncluded, SysPathMissing, StartCommandMissing,
                 ModelsNotImported, StartCommandsDisagree, TablesNeverCreated)


def settle(results: list[FileResult]) -> list[FileResult]:
    """One result per file (a predicted failure in a file a codemod also changed joins that file's result).
    A predicted failure whose fixing rule made a fix in this run is left out: that rule's own finding reports
    it, with the fix."""
    fixing = fixing_rules(results)
    reporting = {f.rule for r in results for f in r.findings if f.startup_order is None} - fixing
    by_path: dict[str, FileResult] = {}
    out: list[FileResult] = []
    for result in results:
        result.findings = [_unclaimed(f, fixing, reporting) for f in result.findings
                           if not _fixed_elsewhere(f, fixing)]
        if result.path in by_path and not result.changed and not result.old and not result.error:
            by_path[result.path].findings.extend(result.findings)
            continue
        if not (result.findings or result.changed or result.error or result.old):
            continue
        by_path.setdefault(result.path, result)
        out.append(result)
    return out


def fixing_rules(results: list[FileResult]) -> set[str]:
    """The rules that made a fix in this run."""
    return {f.rule for r in results if r.changed for f in r.findings if f.fixed}


def _claimed_by(finding: Finding) -> str:
    """The rules that fix the failure a finding reports, as its explanation names them ("FX004 or FX005")."""
    if finding.startup_order is None or not finding.explanation.startswith(_APPLY_FIXES):
        return ""
    return finding.explanation.partition("(")[2].partition(")")[0]


def _fixed_elsewhere(finding: Finding, fixing: set[str]) -> bool:
    return any(rule in fixing for rule in _claimed_by(finding).split(" or "))


def _unclaimed(finding: Finding, fixing: set[str], reporting: set[str]) -> Finding:
    """A failure whose rule made no fix in this run (the code is in a shape the rule does not rewrite, e.g.
    `AsyncEngine(create_engine(...))` for FX005, or the rule reports a start command to change instead):
    `fixer apply` does not fix it, say so."""
    rule = _claimed_by(finding)
    if not rule:
        return finding
    if any(r in reporting for r in rule.split(" or ")):
        return dataclasses.replace(finding, explanation=f"Not fixed by `fixer apply`: {rule}'s finding says what "
                                                        "to change.")
    return dataclasses.replace(finding, explanation=f"Needs a person: {rule} handles this kind of failure but "
                                                    "made no fix for it in this run, so `fixer apply` leaves it.")
