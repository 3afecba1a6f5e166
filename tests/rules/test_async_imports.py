import libcst as cst
from libcst.codemod import CodemodContext, CodemodTest

from fixer.model import ProjectModel
from fixer.rules.async_imports import AsyncImports
from fixer.rules.base import FINDINGS_KEY

ASYNC = ProjectModel(async_db=True)
ASYNC_EXEC = ProjectModel(async_db=True, sqlmodel_exec=True)


def run(source: str, facts: ProjectModel) -> tuple[str, list]:
    context = CodemodContext(filename="db.py")
    module = AsyncImports(context, facts=facts).transform_module(cst.parse_module(source))
    return module.code, context.scratch.get(FINDINGS_KEY, [])


class TestAsyncImports(CodemodTest):
    TRANSFORM = AsyncImports

    def check(self, before: str, after: str, facts: ProjectModel = ASYNC) -> None:
        self.assertCodemod(before, after, facts=facts)
        cst.parse_module(self.make_fixture_data(after))
        again, findings = run(self.make_fixture_data(after), facts)
        self.assertEqual(again, self.make_fixture_data(after), "a second run must change nothing")
        self.assertEqual(findings, [])

    def test_seed_database_module(self) -> None:
        self.check(
            """
            from sqlmodel import SQLModel, create_engine
            from sqlalchemy import AsyncEngine
            from sqlalchemy.orm import sessionmaker
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine: AsyncEngine = create_engine(settings.DATABASE_URL, echo=False)

            async def init_db() -> None:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
            """,
            """
            from sqlmodel import SQLModel
            from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
            from sqlalchemy.orm import sessionmaker
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine: AsyncEngine = create_async_engine(settings.DATABASE_URL, echo=False)

            async def init_db() -> None:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
            """,
            ASYNC_EXEC,
        )

    def test_names_from_every_wrong_module(self) -> None:
        self.check(
            """
            from sqlmodel import AsyncSession, create_async_engine
            from sqlalchemy.engine import AsyncEngine
            from sqlalchemy.orm import async_sessionmaker, Session
            """,
            """
            from sqlmodel.ext.asyncio.session import AsyncSession
            from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
            from sqlalchemy.orm import Session
            """,
        )

    def test_merges_into_existing_import_keeping_layout(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import (
                AsyncEngine,
                create_async_engine,
            )
            from sqlalchemy.orm import async_sessionmaker
            """,
            """
            from sqlalchemy.ext.asyncio import (
                AsyncEngine,
                async_sessionmaker,
                create_async_engine,
            )
            """,
        )

    def test_one_name_imported_both_plain_and_aliased(self) -> None:
        # Found by tests/test_fuzz.py: LibCST sorts ("AsyncEngine", None) against ("AsyncEngine", "AE") and fails.
        # Nested, so that no module-level import takes the names: LibCST writes a new import line for them,
        # and the repeated plain import asks for the plain name there too.
        self.check(
            """
            if x:
                from sqlalchemy import AsyncEngine
                from sqlalchemy import AsyncEngine
                from sqlalchemy import AsyncEngine as AE
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncEngine as AE, AsyncEngine

            if x:
                from sqlalchemy.ext.asyncio import AsyncEngine
            """,
        )

    def test_engine_left_sync_where_the_module_has_its_own_create_async_engine(self) -> None:
        # `create_async_engine(...)` would call the module's own function (or the name it imports from elsewhere).
        for own in ("def create_async_engine(url):\n    return wrap(url)\n", "from app.engines import create_async_engine\n"):
            source = (
                "from sqlalchemy import create_engine, AsyncEngine\n"
                f"{own}"
                "engine: AsyncEngine = create_engine(url)\n"
            )
            code, findings = run(source, ASYNC)
            self.assertIn("engine: AsyncEngine = create_engine(url)\n", code)
            self.assertIn("from sqlalchemy import create_engine\n", code)
            self.assertEqual(code.count("create_async_engine"), 1)
            # AsyncEngine moved; the engine is left for a person, who is told why.
            self.assertEqual([f.fixed for f in findings], [True, False])
            self.assertIn("has its own `create_async_engine`", findings[1].problem)

    def test_create_async_engine_imported_from_a_wrong_module_is_not_the_modules_own(self) -> None:
        # Found by tests/test_fuzz.py: taken for the module's own, it kept `create_engine` on the first run and
        # swapped it on the second, once the import had moved. (`create_engine`, unused, stays as it is.)
        self.check(
            """
            from sqlmodel import create_engine
            from sqlmodel import SQLModel, create_async_engine
            """,
            """
            from sqlmodel import create_engine
            from sqlmodel import SQLModel
            from sqlalchemy.ext.asyncio import create_async_engine
            """,
        )

    def test_alias_is_kept(self) -> None:
        self.check(
            "from sqlmodel import AsyncSession as Session\n",
            "from sqlmodel.ext.asyncio.session import AsyncSession as Session\n",
        )

    def test_sqlalchemy_async_session_becomes_sqlmodels_where_exec_is_used(self) -> None:
        # The sessions this module makes get `.exec` called on them: they must be sqlmodel's.
        self.check(
            "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\nmaker = sessionmaker(engine, class_=AsyncSession)\n",
            "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlmodel.ext.asyncio.session import AsyncSession\n"
            "maker = sessionmaker(engine, class_=AsyncSession)\n",
            ASYNC_EXEC,
        )

    def test_an_annotation_of_sqlalchemys_async_session_is_left_alone(self) -> None:
        # Only annotated here: the session comes from a factory elsewhere, and the annotation runs nothing.
        source = "from sqlalchemy.ext.asyncio import AsyncSession\n\nasync def read(session: AsyncSession) -> None:\n    await session.exec(q)\n"
        self.assertCodemod(source, source, facts=ASYNC_EXEC)

    def test_an_alias_kept_for_sqlalchemys_class_beside_sqlmodels_is_left_alone(self) -> None:
        # A training backend: sessions are made with sqlmodel's class; the aliased SQLAlchemy import makes none,
        # and moving it gave `import AsyncSession, AsyncSession as SqlAlchemyAsyncSession` from sqlmodel.
        source = (
            "from sqlmodel.ext.asyncio.session import AsyncSession\n"
            "from sqlalchemy.ext.asyncio import create_async_engine, AsyncSession as SqlAlchemyAsyncSession\n\n"
            "async def first(engine, q):\n    async with AsyncSession(engine) as session:\n"
            "        return (await session.exec(q)).first()\n"
        )
        self.assertCodemod(source, source, facts=ASYNC_EXEC)

    def test_an_alias_that_makes_the_sessions_still_moves(self) -> None:
        self.assertCodemod(
            "from sqlalchemy.ext.asyncio import AsyncSession as AS\nmaker = sessionmaker(engine, class_=AS)\n",
            "from sqlmodel.ext.asyncio.session import AsyncSession as AS\nmaker = sessionmaker(engine, class_=AS)\n",
            facts=ASYNC_EXEC,
        )

    def test_async_session_without_exec_goes_to_sqlalchemy(self) -> None:
        self.check("from sqlalchemy import AsyncSession\n", "from sqlalchemy.ext.asyncio import AsyncSession\n")

    def test_create_engine_used_async_ways(self) -> None:
        for use in (
            "async def stop():\n    await engine.dispose()\n",
            "Maker = sessionmaker(bind=engine, class_=AsyncSession)\n",
            "Maker = async_sessionmaker(engine)\n",
        ):
            self.check(
                f"from sqlalchemy import create_engine\nengine = create_engine(URL)\n{use}",
                f"from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(URL)\n{use}",
            )

    def test_create_engine_still_used_elsewhere_keeps_its_import(self) -> None:
        self.check(
            """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import AsyncEngine
            engine: AsyncEngine = create_engine(URL)
            sync_engine = create_engine(SYNC_URL)
            """,
            """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
            engine: AsyncEngine = create_async_engine(URL)
            sync_engine = create_engine(SYNC_URL)
            """,
        )

    def test_imports_inside_blocks_and_functions(self) -> None:
        # Statements are entered only for the imports and engines they hold, not for the annotations that
        # mention AsyncSession all over an app: an import in a try block or a function is still fixed.
        self.check(
            """
            try:
                from sqlmodel import AsyncSession
            except ImportError:
                AsyncSession = None

            async def handler(session: AsyncSession) -> None:
                from sqlalchemy import AsyncEngine
                engine: AsyncEngine = make()
            """,
            """
            try:
                from sqlmodel.ext.asyncio.session import AsyncSession
            except ImportError:
                AsyncSession = None

            async def handler(session: AsyncSession) -> None:
                from sqlalchemy.ext.asyncio import AsyncEngine
                engine: AsyncEngine = make()
            """,
        )

    def test_leaves_sync_engine_alone(self) -> None:
        self.assertCodemod(
            "from sqlmodel import Session, create_engine\nengine = create_engine(URL)\nwith Session(engine) as s:\n    pass\n",
            "from sqlmodel import Session, create_engine\nengine = create_engine(URL)\nwith Session(engine) as s:\n    pass\n",
            facts=ASYNC,
        )

    def test_leaves_an_unused_create_engine_import_alone(self) -> None:
        # Nothing builds an engine with it: no engine is wrong, so nothing to swap (it was swapped for an equally
        # unused create_async_engine import).
        source = (
            "from sqlalchemy import create_engine  # noqa: F401\n"
            "from sqlalchemy.ext.asyncio import create_async_engine\n"
            "engine = create_async_engine(URL)\n"
        )
        self.assertCodemod(source, source, facts=ASYNC)

    def test_leaves_correct_imports_alone(self) -> None:
        source = "from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine\nfrom sqlmodel.ext.asyncio.session import AsyncSession\n"
        self.assertCodemod(source, source, facts=ASYNC_EXEC)

    def test_leaves_relative_and_star_imports_alone(self) -> None:
        source = "from .sqlalchemy import AsyncEngine\nfrom sqlmodel import *\n"
        self.assertCodemod(source, source, facts=ASYNC)


def test_findings_name_the_error_and_line() -> None:
    _, findings = run("import os\nfrom sqlalchemy import AsyncEngine\n", ASYNC)
    (finding,) = findings
    assert finding.rule == "FX002" and finding.fixed
    assert "ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy'" in finding.root_cause
    assert finding.old_code == "from sqlalchemy import AsyncEngine"
    assert finding.new_code == "from sqlalchemy.ext.asyncio import AsyncEngine"
    assert finding.defects == ("ENG-IMPORT",)
