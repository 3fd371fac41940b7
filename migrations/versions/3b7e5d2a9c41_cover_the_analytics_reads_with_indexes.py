"""Cover the analytics refresh's reads of attempts, answers and selections with indexes

The three indexes keep their names and key columns and gain INCLUDE columns on PostgreSQL, so
the refresh reads them as index-only scans instead of the tables' heaps (attempt_answers rows
carry a whole snapshot each). SQLite has no INCLUDE: nothing changes there.

Each new index is built CONCURRENTLY under a temporary name, then swapped in, so learners can
keep reading and writing while a large table is indexed (a plain DROP INDEX / CREATE INDEX
would lock the tables for the whole build).

Revision ID: 3b7e5d2a9c41
Revises: f2ec7db0ce0e
Create Date: 2026-11-25 02:45:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "3b7e5d2a9c41"
down_revision = "f2ec7db0ce0e"
branch_labels = None
depends_on = None

INDEXES = [
    (
        "ix_quiz_attempts_user_lesson",
        "quiz_attempts",
        ["user_id", "lesson_id", "submitted_at"],
        ["id", "correct_count", "question_count"],
    ),
    ("ix_attempt_answers_question_id", "attempt_answers", ["question_id"], ["attempt_id", "is_correct", "id"]),
    ("ix_answer_selections_choice_id", "answer_selections", ["choice_id"], ["answer_id"]),
]


def _rebuild(*, covering: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # CONCURRENTLY cannot run inside a transaction: this block commits what came before.
    with op.get_context().autocommit_block():
        for name, table, columns, include in INDEXES:
            building = f"{name}_new"
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {building}")  # a build interrupted earlier
            op.create_index(
                building, table, columns, postgresql_include=include if covering else [], postgresql_concurrently=True
            )
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
            op.execute(f"ALTER INDEX {building} RENAME TO {name}")


def upgrade():
    _rebuild(covering=True)


def downgrade():
    _rebuild(covering=False)
