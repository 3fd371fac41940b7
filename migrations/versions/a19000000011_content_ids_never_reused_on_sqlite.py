"""Lessons, questions and choices never reuse a deleted row's id on SQLite (AUTOINCREMENT)

Drafts, publications and restores name these rows by id. SQLite gives a new row the highest id
plus one, so deleting the newest question and adding another gave the new one the old id, and
restoring a version that held the old question rewrote the new one in place. AUTOINCREMENT keeps
the highest id ever given in ``sqlite_sequence``. SQLite cannot add it to a table, so each
table is rebuilt (batch mode, foreign keys off while migrating: migrations/env.py), keeping
every row and id; the copy sets the sequence to the highest id there now. PostgreSQL's
sequences never reuse ids: nothing to do there.

Revision ID: a19000000011
Revises: a19000000010
Create Date: 2026-12-06 09:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000011"
down_revision = "a19000000010"
branch_labels = None
depends_on = None

TABLES = ("lessons", "questions", "choices")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
