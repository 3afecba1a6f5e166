"""The documented `alembic upgrade head` on an empty database: a revision that works on a table no earlier revision
creates (a foreign key to the table the app's create_all makes, an `add_column`), or drops a constraint the
revision creating the table never made, stops there with PostgreSQL's words (`fixer.model.migrations`)."""

from __future__ import annotations

import pytest

from fixer.model.migrations import missing_relation

_FIRST = '''\
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(){fk}),
    )
'''
_SECOND = '''\
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    {body}
'''


def _run(first: str = "", second: str = "op.add_column(\"notes\", sa.Column(\"body\", sa.Text()))",
         order: tuple[str, str] = ("a_first.py", "b_second.py")) -> tuple | None:
    files = {f"v/{order[0]}": _FIRST.format(fk=first), f"v/{order[1]}": _SECOND.format(body=second)}
    return missing_relation(sorted(files), files.get)


def test_a_chain_that_creates_what_it_alters_is_whole() -> None:
    assert _run() is None
    assert _run(order=("z_first.py", "a_second.py")) is None  # run in the chain's order, not the files'


@pytest.mark.parametrize(("first", "second", "missing", "where"), [
    (', sa.ForeignKey("user.id")', 'op.add_column("notes", sa.Column("x", sa.Text()))', "user", ("v/a_first.py", 9)),
    ("", 'op.add_column("todos", sa.Column("x", sa.Text()))', "todos", ("v/b_second.py", 9)),
    ("", 'op.create_foreign_key("fk", "notes", "users", ["owner_id"], ["id"])', "users", ("v/b_second.py", 9)),
    ("", 'op.create_index("ix", "tasks", ["id"])', "tasks", ("v/b_second.py", 9)),
])
def test_a_table_no_revision_creates_stops_the_upgrade(first: str, second: str, missing: str, where: tuple) -> None:
    found = _run(first, second)
    assert found is not None and found[:2] == ("sqlalchemy.exc.ProgrammingError", f'relation "{missing}" does not exist')
    assert found[2:5] == (*where, "migration-revisions")


def test_a_constraint_the_table_never_had_stops_the_upgrade() -> None:
    found = _run(second='op.drop_constraint("notes_owner_id_fkey", "notes", type_="foreignkey")')
    assert found is not None and found[1] == 'constraint "notes_owner_id_fkey" of relation "notes" does not exist'
    # The key PostgreSQL named from the column's ForeignKey exists.
    first = ', sa.ForeignKey("notes.id")'
    assert _run(first, 'op.drop_constraint("notes_owner_id_fkey", "notes", type_="foreignkey")') is None


@pytest.mark.parametrize("second", [
    'op.execute("CREATE TABLE todos (id int)")\n    op.add_column("todos", sa.Column("x", sa.Text()))',
    'op.add_column("todos", sa.Column("x", sa.Text()), schema="app")',
    'op.add_column(TABLE, sa.Column("x", sa.Text()))',
    'sa.MetaData().create_all(op.get_bind())\n    op.add_column("todos", sa.Column("x", sa.Text()))',
    'op.execute("ALTER TABLE notes ADD CONSTRAINT c UNIQUE (id)")\n'
    '    op.drop_constraint("c2", "notes", type_="unique")',
    'op.drop_constraint("some_name", "notes")\n    op.create_unique_constraint("some_name", "notes", ["id"])',
])
def test_what_fixer_cannot_read_is_left_alone(second: str) -> None:
    assert _run(second=second) is None
