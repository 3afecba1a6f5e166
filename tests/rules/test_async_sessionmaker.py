"""FX003 async-sessionmaker: sessionmaker for async sessions -> async_sessionmaker(..., expire_on_commit=False)."""

from __future__ import annotations

import json
from dataclasses import asdict

import libcst as cst
from libcst.codemod import CodemodContext, CodemodTest

from fixer.model import ProjectModel
from fixer.model.database import DatabaseFlow, ExpiredRead
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.async_sessionmaker import AsyncSessionmaker
from fixer.rules.base import FINDINGS_KEY

# A project that reads an object after `await session.commit()` (ENG-EXPIRE): what makes these rewrites safe.
FACTS = ProjectModel(async_db=True, flow=DatabaseFlow(expired_reads=(ExpiredRead("app/routes.py", 9, "todo"),)))
NO_EVIDENCE = ProjectModel(async_db=True)
UNSAFE = ProjectModel(async_db=True, unsafe_fixes=True)

SEED_BEFORE = """
    from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
    from sqlalchemy.orm import sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession

    engine: AsyncEngine = create_async_engine(url, echo=False, pool_pre_ping=True)

    async_session_maker = sessionmaker(
        bind=engine,
        class_=AsyncSession,
        autocommit=False,
        autoflush=False,
    )
"""
SEED_AFTER = """
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    engine: AsyncEngine = create_async_engine(url, echo=False, pool_pre_ping=True)

    async_session_maker = async_sessionmaker(
        bind=engine,
        class_=AsyncSession,
        autoflush=False,
        expire_on_commit=False,
    )
"""


def run(source: str, facts: ProjectModel = FACTS) -> tuple[str, list[Finding]]:
    context = CodemodContext()
    module = cst.parse_module(CodemodTest.make_fixture_data(source))
    new = AsyncSessionmaker(context, facts=facts).transform_module(module)
    return new.code, context.scratch.get(FINDINGS_KEY, [])


class AsyncSessionmakerTest(CodemodTest):
    TRANSFORM = AsyncSessionmaker

    def check(
        self, before: str, after: str, findings: int | None = None, facts: ProjectModel = FACTS
    ) -> list[Finding]:
        """assertCodemod, plus: the output parses and compiles, and a second run changes and reports nothing."""
        context = CodemodContext()
        self.assertCodemod(before, after, context_override=context, facts=facts)
        found: list[Finding] = context.scratch.get(FINDINGS_KEY, [])
        expected = findings if findings is not None else (0 if before == after else 1)
        self.assertEqual(len(found), expected, found)
        output = CodemodTest.make_fixture_data(after)
        compile(output, "<fixed>", "exec")
        again, again_found = run(after, facts)
        self.assertEqual(again, output, "not idempotent")
        self.assertEqual(again_found, [])
        return found

    def unchanged(self, source: str) -> None:
        self.check(source, source, findings=0)

    # ------------------------------------------------------------- rewrites

    def test_seed_case(self) -> None:
        self.check(SEED_BEFORE, SEED_AFTER)

    def test_class_async_session_only(self) -> None:
        self.check(
            """
            from sqlalchemy.orm import sessionmaker
            from sqlmodel.ext.asyncio.session import AsyncSession

            SessionLocal = sessionmaker(class_=AsyncSession, autoflush=False)
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker
            from sqlmodel.ext.asyncio.session import AsyncSession

            SessionLocal = async_sessionmaker(class_=AsyncSession, autoflush=False, expire_on_commit=False)
            """,
        )

    def test_aliased_async_session_class(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession as SASession
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(class_=SASession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession as SASession, async_sessionmaker

            maker = async_sessionmaker(class_=SASession, expire_on_commit=False)
            """,
        )

    def test_local_subclass_of_async_session(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker


            class AppSession(AsyncSession):
                pass


            maker = sessionmaker(class_=AppSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


            class AppSession(AsyncSession):
                pass


            maker = async_sessionmaker(class_=AppSession, expire_on_commit=False)
            """,
        )

    def test_bound_positional_to_async_engine(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine(DATABASE_URL)
            SessionLocal = sessionmaker(engine, autocommit=False, autoflush=False)
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine(DATABASE_URL)
            SessionLocal = async_sessionmaker(engine, autoflush=False, expire_on_commit=False)
            """,
        )

    def test_bound_to_inline_create_async_engine(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import sessionmaker

            SessionLocal = sessionmaker(bind=create_async_engine(DATABASE_URL))
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            SessionLocal = async_sessionmaker(bind=create_async_engine(DATABASE_URL), expire_on_commit=False)
            """,
        )

    def test_bound_to_annotated_async_engine(self) -> None:
        self.check(
            """
            from typing import Optional

            from sqlalchemy.ext.asyncio import AsyncEngine
            from sqlalchemy.orm import sessionmaker

            engine: AsyncEngine = build_engine()
            later: Optional[AsyncEngine] = None

            SessionLocal = sessionmaker(bind=engine)


            def configure():
                return sessionmaker(later)
            """,
            """
            from typing import Optional

            from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

            engine: AsyncEngine = build_engine()
            later: Optional[AsyncEngine] = None

            SessionLocal = async_sessionmaker(bind=engine, expire_on_commit=False)


            def configure():
                return async_sessionmaker(later, expire_on_commit=False)
            """,
            findings=2,
        )

    def test_import_sqlalchemy_orm_attribute_form(self) -> None:
        self.check(
            """
            import sqlalchemy.orm
            from sqlalchemy.ext.asyncio import AsyncEngine

            engine: AsyncEngine = make_engine()
            Session = sqlalchemy.orm.sessionmaker(bind=engine)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

            engine: AsyncEngine = make_engine()
            Session = async_sessionmaker(bind=engine, expire_on_commit=False)
            """,
        )

    def test_import_sqlalchemy_orm_kept_while_sqlalchemy_is_used(self) -> None:
        # `import sqlalchemy.orm` also binds `sqlalchemy`: removing it would break sqlalchemy.Column
        self.check(
            """
            import sqlalchemy.orm
            from sqlalchemy.ext.asyncio import AsyncEngine

            engine: AsyncEngine = make_engine()
            Session = sqlalchemy.orm.sessionmaker(bind=engine)
            column = sqlalchemy.Column()
            """,
            """
            import sqlalchemy.orm
            from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

            engine: AsyncEngine = make_engine()
            Session = async_sessionmaker(bind=engine, expire_on_commit=False)
            column = sqlalchemy.Column()
            """,
        )

    def test_orm_module_aliases(self) -> None:
        self.check(
            """
            from sqlalchemy import orm
            import sqlalchemy.orm as sa_orm
            from sqlalchemy.orm import sessionmaker as make_sessions
            from sqlalchemy.ext.asyncio import AsyncSession

            A = orm.sessionmaker(class_=AsyncSession)
            B = sa_orm.sessionmaker(class_=AsyncSession)
            C = make_sessions(class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            A = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            B = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            C = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            """,
            findings=3,
        )

    def test_autocommit_true_dropped(self) -> None:
        found = self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(engine, autocommit=True, class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            maker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
            """,
        )
        self.assertIn("autocommit=True is no longer supported", found[0].explanation)

    def test_autocommit_false_works_and_is_left_alone(self) -> None:
        # SQLAlchemy 2 still accepts autocommit=False (only True raises): nothing fails, nothing to change.
        self.unchanged(
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            maker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, autocommit=False)
            """
        )

    def test_expire_on_commit_true_flipped(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(
                bind=engine,
                expire_on_commit=True,
                class_=AsyncSession,
            )
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            maker = async_sessionmaker(
                bind=engine,
                expire_on_commit=False,
                class_=AsyncSession,
            )
            """,
        )

    def test_async_sessionmaker_missing_expire_on_commit(self) -> None:
        found = self.check(
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine(URL)
            maker = async_sessionmaker(engine)
            flipped = async_sessionmaker(engine, expire_on_commit=True)
            fine = async_sessionmaker(engine, expire_on_commit=False)
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine(URL)
            maker = async_sessionmaker(engine, expire_on_commit=False)
            flipped = async_sessionmaker(engine, expire_on_commit=False)
            fine = async_sessionmaker(engine, expire_on_commit=False)
            """,
            facts=UNSAFE,
            findings=2,
        )
        self.assertEqual([f.defects for f in found], [("ENG-EXPIRE",), ("ENG-EXPIRE",)])

    def test_async_sessionmaker_multiline_without_trailing_comma(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker

            maker = async_sessionmaker(
                engine
            )
            other = async_sessionmaker(
                engine,
                autoflush=False
            )
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker

            maker = async_sessionmaker(
                engine,
                expire_on_commit=False
            )
            other = async_sessionmaker(
                engine,
                autoflush=False,
                expire_on_commit=False
            )
            """,
            facts=UNSAFE,
            findings=2,
        )

    def test_layout_of_one_argument_and_sole_autocommit_calls(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker

            a = async_sessionmaker(
                engine,
            )
            b = async_sessionmaker(
                autocommit=False,
            )
            c = async_sessionmaker(autocommit=False)
            d = async_sessionmaker(engine, autocommit = True, autoflush = False)
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker

            a = async_sessionmaker(
                engine,
                expire_on_commit=False,
            )
            b = async_sessionmaker(
                expire_on_commit=False,
            )
            c = async_sessionmaker(expire_on_commit=False)
            d = async_sessionmaker(engine, autoflush = False, expire_on_commit = False)
            """,
            facts=UNSAFE,
            findings=4,
        )

    def test_what_works_today_is_offered_not_changed(self) -> None:
        # Nothing in the project reads an object after commit: expire_on_commit=False on the project's own
        # async_sessionmaker, and renaming a working sessionmaker(class_=AsyncSession), change code that works.
        imported = "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\nfrom sqlalchemy.orm import sessionmaker\n"
        for call in ("async_sessionmaker(engine)", "sessionmaker(engine, class_=AsyncSession)"):
            source = imported + f"maker = {call}\n"
            new, found = run(source, NO_EVIDENCE)
            self.assertEqual(new, source)
            self.assertEqual([(f.fixed, f.safe) for f in found], [(False, False)])
            new, found = run(source, UNSAFE)
            self.assertIn("expire_on_commit=False", new)
            self.assertEqual([(f.fixed, f.safe) for f in found], [(True, True)])

    def test_what_fails_today_is_fixed_without_evidence(self) -> None:
        # autocommit=True raises; a sessionmaker without class_ makes sync Sessions for an async engine.
        imported = "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n"
        new, found = run(imported + "d = async_sessionmaker(engine, autocommit=True)\n", NO_EVIDENCE)
        self.assertEqual(new, imported + "d = async_sessionmaker(engine)\n")
        self.assertEqual(sorted((f.fixed, f.safe) for f in found), [(False, False), (True, True)])
        source = (
            "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlalchemy.orm import sessionmaker\n"
            "engine = create_async_engine(URL)\nmaker = sessionmaker(bind=engine, autoflush=False)\n"
        )
        new, found = run(source, NO_EVIDENCE)
        self.assertIn("maker = async_sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)", new)
        self.assertEqual([(f.fixed, f.safe) for f in found], [(True, True)])

    def test_a_version_shim_is_left_alone(self) -> None:
        self.unchanged(
            """
            try:
                from sqlalchemy.ext.asyncio import async_sessionmaker
            except ImportError:
                from sqlalchemy.orm import sessionmaker as async_sessionmaker
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(bind=engine)
            other = async_sessionmaker(engine)
            """
        )

    def test_a_parameter_named_async_sessionmaker_is_not_the_factory(self) -> None:
        # A pytest fixture handing a session factory to a test under the class's name.
        self.unchanged(
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker

            async def test_session(async_sessionmaker):
                async with async_sessionmaker() as session:
                    pass
            """
        )

    def test_module_level_variable_named_async_sessionmaker(self) -> None:
        # at module level the right side is evaluated first, so shadowing the import there is harmless
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            async_sessionmaker = sessionmaker(class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            async_sessionmaker = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            """,
        )

    def test_module_whose_own_async_sessionmaker_is_something_else(self) -> None:
        # The renamed call would call the module's own `async_sessionmaker` (3, a function): left as it is.
        for own in ("async_sessionmaker = 3\n", "def async_sessionmaker(**kw):\n    return kw\n"):
            self.unchanged(
                "from sqlalchemy.ext.asyncio import AsyncSession\n"
                "from sqlalchemy.orm import sessionmaker\n"
                f"{own}"
                "Session = sessionmaker(class_=AsyncSession)\n"
            )

    def test_the_factory_bound_to_the_name_async_sessionmaker_is_called_as_it_is(self) -> None:
        # Found by tests/test_fuzz.py: on a second run `async_sessionmaker()` in get_session (a call of the
        # factory, making a session) was taken for the class and given expire_on_commit=False.
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            async_sessionmaker = sessionmaker(class_=AsyncSession)

            async def get_session():
                async with async_sessionmaker() as session:
                    yield session
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            async_sessionmaker = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)

            async def get_session():
                async with async_sessionmaker() as session:
                    yield session
            """,
        )

    def test_single_line_call(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine(URL)
            maker = sessionmaker(bind=engine, class_=AsyncSession, autocommit=False)  # the session factory
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            engine = create_async_engine(URL)
            maker = async_sessionmaker(bind=engine, class_=AsyncSession, expire_on_commit=False)  # the session factory
            """,
        )

    def test_comment_on_last_argument_stays_with_it(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(
                engine,
                class_=AsyncSession,  # sqlmodel's would add .exec
            )
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            maker = async_sessionmaker(
                engine,
                class_=AsyncSession,  # sqlmodel's would add .exec
                expire_on_commit=False,
            )
            """,
        )

    def test_sessionmaker_still_used_for_sync_engine_keeps_import(self) -> None:
        self.check(
            """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import sessionmaker

            sync_engine = create_engine(SYNC_URL)
            async_engine = create_async_engine(ASYNC_URL)
            SyncSession = sessionmaker(bind=sync_engine, autocommit=False)
            AsyncSessionLocal = sessionmaker(bind=async_engine)
            """,
            """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlalchemy.orm import sessionmaker

            sync_engine = create_engine(SYNC_URL)
            async_engine = create_async_engine(ASYNC_URL)
            SyncSession = sessionmaker(bind=sync_engine, autocommit=False)
            AsyncSessionLocal = async_sessionmaker(bind=async_engine, expire_on_commit=False)
            """,
        )

    def test_other_names_from_sqlalchemy_orm_kept(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import relationship, sessionmaker

            maker = sessionmaker(class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
            from sqlalchemy.orm import relationship

            maker = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            """,
        )

    # --------------------------------------------------------------- imports

    def test_new_import_line_when_no_asyncio_import(self) -> None:
        # In a sorted block the new line takes its isort place; a blank line follows the block
        self.check(
            """
            \"\"\"Database.\"\"\"
            from sqlalchemy.orm import sessionmaker
            from sqlmodel.ext.asyncio.session import AsyncSession
            maker = sessionmaker(class_=AsyncSession)
            """,
            """
            \"\"\"Database.\"\"\"
            from sqlalchemy.ext.asyncio import async_sessionmaker
            from sqlmodel.ext.asyncio.session import AsyncSession

            maker = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            """,
        )

    def test_merge_into_parenthesized_import(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import (
                AsyncEngine,
                create_async_engine,
            )
            from sqlalchemy.orm import sessionmaker

            engine: AsyncEngine = create_async_engine(URL)
            maker = sessionmaker(engine)
            """,
            """
            from sqlalchemy.ext.asyncio import (
                AsyncEngine,
                async_sessionmaker,
                create_async_engine,
            )

            engine: AsyncEngine = create_async_engine(URL)
            maker = async_sessionmaker(engine, expire_on_commit=False)
            """,
        )

    def test_merge_into_unsorted_import_appends(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import create_async_engine, AsyncSession
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import create_async_engine, AsyncSession, async_sessionmaker

            maker = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            """,
        )

    def test_merge_into_import_after_other_statements(self) -> None:
        # AddImportsVisitor only looks at the first import block; the import below load_dotenv() is merged into
        self.check(
            """
            from dotenv import load_dotenv

            load_dotenv()

            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine(URL)
            maker = sessionmaker(engine)
            """,
            """
            from dotenv import load_dotenv

            load_dotenv()

            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine(URL)
            maker = async_sessionmaker(engine, expire_on_commit=False)
            """,
        )

    def test_existing_aliased_async_sessionmaker_import_reused(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker as make_async
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker as make_async

            maker = make_async(class_=AsyncSession, expire_on_commit=False)
            """,
        )

    def test_import_in_try_block_not_removed(self) -> None:
        # RemoveImportsVisitor would empty the try body to `pass`; only module-level imports are removed
        self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession

            try:
                from sqlalchemy.orm import sessionmaker
            except ImportError:
                sessionmaker = None

            maker = sessionmaker(class_=AsyncSession)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            try:
                from sqlalchemy.orm import sessionmaker
            except ImportError:
                sessionmaker = None

            maker = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)
            """,
        )

    def test_star_kwargs_gets_no_expire_on_commit(self) -> None:
        found = self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            maker = sessionmaker(class_=AsyncSession, **options)
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            maker = async_sessionmaker(class_=AsyncSession, **options)
            """,
            facts=UNSAFE,  # the mapping may set expire_on_commit: nothing shows this call fails
        )
        self.assertEqual(found[0].defects, ("ENG-SESSIONMAKER",))
        self.assertIn("**", found[0].explanation)

    # ---------------------------------------------------------- left alone

    def test_sync_engine_untouched(self) -> None:
        self.unchanged(
            """
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_engine(DATABASE_URL)
            SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
            """
        )

    def test_no_async_markers_untouched(self) -> None:
        self.unchanged(
            """
            from sqlalchemy.orm import sessionmaker

            SessionLocal = sessionmaker()
            Other = sessionmaker(bind=get_engine())
            """
        )

    def test_unresolved_calls_untouched(self) -> None:
        self.unchanged(
            """
            from sqlalchemy.orm import Session, sessionmaker
            from sqlalchemy.ext.asyncio import AsyncEngine

            from .db import engine

            a = sessionmaker(bind=engine)
            b = sessionmaker(bind=self.engine)
            c = sessionmaker(*args)
            d = sessionmaker(async_engine, class_=Session)
            e = other.sessionmaker(class_=AsyncSession)
            """
        )

    def test_engine_with_sync_and_async_evidence_untouched(self) -> None:
        # annotated AsyncEngine but built with create_engine (FX002 did not convert it): ambiguous
        self.unchanged(
            """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import AsyncEngine
            from sqlalchemy.orm import sessionmaker

            engine: AsyncEngine = create_engine(URL)
            maker = sessionmaker(bind=engine)
            """
        )

    def test_bare_sessionmaker_without_import_untouched(self) -> None:
        self.unchanged(
            """
            from sqlalchemy.orm import *
            from sqlalchemy.ext.asyncio import AsyncSession

            maker = sessionmaker(class_=AsyncSession)
            """
        )

    def test_non_literal_expire_on_commit_untouched(self) -> None:
        self.unchanged(
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker

            maker = async_sessionmaker(engine, expire_on_commit=settings.EXPIRE)
            """
        )

    def test_name_bound_in_function_skips_rename(self) -> None:
        # `async_sessionmaker = async_sessionmaker(...)` inside a function would be an UnboundLocalError
        self.unchanged(
            """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker


            def build():
                async_sessionmaker = sessionmaker(class_=AsyncSession)
                return async_sessionmaker
            """
        )

    def test_a_factory_asked_of_an_inline_async_engine(self) -> None:
        """`create_async_engine(url).sessionmaker(...)` raises AttributeError: the engine becomes the argument."""
        found = self.check(
            """
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine


            async def get_session():
                maker = create_async_engine(
                    URL,
                    echo=False,
                ).sessionmaker(class_=AsyncSession, expire_on_commit=False)
                async with maker() as session:
                    yield session
            """,
            """
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


            async def get_session():
                maker = async_sessionmaker(create_async_engine(
                    URL,
                    echo=False,
                ), class_=AsyncSession, expire_on_commit=False)
                async with maker() as session:
                    yield session
            """,
        )
        self.assertIn("has no attribute 'sessionmaker'", found[0].root_cause)

    def test_a_factory_asked_of_a_module_engine_without_arguments(self) -> None:
        self.check(
            """
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(URL)
            Maker = engine.async_sessionmaker()
            """,
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine(URL)
            Maker = async_sessionmaker(engine, expire_on_commit=False)
            """,
            findings=2,  # the method, and expire_on_commit where the project reads after a commit
        )

    def test_a_method_of_something_else_called_sessionmaker_is_left_alone(self) -> None:
        self.unchanged(
            """
            from sqlalchemy import create_engine

            engine = create_engine(URL)
            registry.sessionmaker(engine)
            factories.sessionmaker(class_=Session)
            """
        )

    # ------------------------------------------------------- whole-rule

    def test_idempotent_on_seed_output(self) -> None:
        once, found = run(SEED_BEFORE)
        twice, found_again = run(once)
        self.assertEqual(once, twice)
        self.assertEqual(len(found), 1)
        self.assertEqual(found_again, [])

    def test_findings_content(self) -> None:
        _, found = run(SEED_BEFORE)
        (finding,) = found
        self.assertEqual(finding.rule, "FX003")
        self.assertEqual(finding.category, Category.DATABASE)
        self.assertEqual(finding.severity, Severity.CRITICAL)
        self.assertTrue(finding.fixed)
        self.assertEqual(finding.defects, ("ENG-SESSIONMAKER", "ENG-EXPIRE"))
        self.assertGreaterEqual(len(finding.problem), 10)
        self.assertGreaterEqual(len(finding.root_cause), 10)
        self.assertEqual(
            finding.old_code,
            "sessionmaker(\n    bind=engine,\n    class_=AsyncSession,\n    autocommit=False,\n    autoflush=False,\n)",
        )
        self.assertEqual(
            finding.new_code,
            "async_sessionmaker(\n    bind=engine,\n    class_=AsyncSession,\n    autoflush=False,\n"
            "    expire_on_commit=False,\n)",
        )
        self.assertIn("MissingGreenlet", finding.explanation)
        self.assertIn("autocommit=True is no longer supported", finding.explanation)
        # readable in a JSON report
        data = json.loads(json.dumps(asdict(finding)))
        self.assertEqual(data["category"], "DATABASE")
        self.assertEqual(data["defects"], ["ENG-SESSIONMAKER", "ENG-EXPIRE"])

    def test_findings_for_bind_only_and_expire_only(self) -> None:
        _, found = run(
            """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine(URL)
            a = sessionmaker(engine)
            b = async_sessionmaker(engine)
            """
        )
        first, second = found
        self.assertIn(
            "TypeError: 'Session' object does not support the asynchronous context manager protocol", first.explanation
        )
        self.assertEqual(first.old_code, "sessionmaker(engine)")
        self.assertEqual(first.new_code, "async_sessionmaker(engine, expire_on_commit=False)")
        self.assertEqual(second.defects, ("ENG-EXPIRE",))
        self.assertIn("expire_on_commit", second.problem)
        self.assertIn("MissingGreenlet", second.explanation)

    def test_trigger_and_metadata(self) -> None:
        trigger = AsyncSessionmaker.TRIGGER
        self.assertTrue(trigger.search(b"from sqlalchemy.orm import sessionmaker"))
        self.assertTrue(trigger.search(b"maker = async_sessionmaker(engine)"))
        self.assertTrue(trigger.search(b"orm.sessionmaker(class_=X)"))
        self.assertFalse(trigger.search(b"my_sessionmakers = 1"))
        self.assertEqual(AsyncSessionmaker.RULE_ID, "FX003")
        self.assertEqual(AsyncSessionmaker.RULE_NAME, "async-sessionmaker")
        self.assertTrue(AsyncSessionmaker.title())
        self.assertIn("ENG-SESSIONMAKER", AsyncSessionmaker.__doc__ or "")
        self.assertIn("ENG-EXPIRE", AsyncSessionmaker.__doc__ or "")

    def test_runs_without_facts(self) -> None:
        # As under `python -m libcst.tool codemod`: no project scan, no facts argument. The file alone shows no
        # read after commit, and sessionmaker(class_=AsyncSession) works: it is offered, not changed.
        self.assertCodemod(SEED_BEFORE, SEED_BEFORE)
