"""Drop the per-answer snapshots now that answers point at their shown question

After a19000000002 every answer has its ``shown_question_id`` and ``chosen`` (answers the
previous release wrote meanwhile are converted first): they become NOT NULL, and the copied
``kind``, ``prompt``, ``explanation`` and ``choices_shown`` columns and the ``answer_selections``
table (whose every column is derivable from the shown version and the answer's ``chosen`` and
``choice_order``) are dropped. The analytics' covering index of answers gains the picks. On
PostgreSQL dropping a column is instant but frees no space until the table is rewritten: run
``VACUUM FULL attempt_answers`` (a few seconds per 100,000 learners, under an exclusive lock;
pg_repack holds none) in a quiet hour to get the space back.

Revision ID: a19000000003
Revises: a19000000002
Create Date: 2026-12-05 01:30:00.000000

"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000003"
down_revision = "a19000000002"
branch_labels = None
depends_on = None


def _covering_index(include: list[str]) -> None:
    """Rebuild the analytics' covering index of answers with these INCLUDE columns, without
    blocking writes (PostgreSQL only: SQLite's indexes include nothing)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    # CONCURRENTLY cannot run inside a transaction: this block commits what came before.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_attempt_answers_question_id_new")  # an interrupted build
        op.create_index(
            "ix_attempt_answers_question_id_new",
            "attempt_answers",
            ["question_id"],
            postgresql_include=include,
            postgresql_concurrently=True,
        )
        op.drop_index("ix_attempt_answers_question_id", table_name="attempt_answers", postgresql_concurrently=True)
        op.execute("ALTER INDEX ix_attempt_answers_question_id_new RENAME TO ix_attempt_answers_question_id")


def _convert_stragglers() -> None:
    """Convert answers the previous release wrote while a19000000002 ran (none when the app was
    stopped): a19000000002's own conversion, which reads only answers not yet converted."""
    path = Path(__file__).with_name("a19000000002_answers_point_at_shown_questions.py")
    spec = importlib.util.spec_from_file_location("a19000000002_conversion", path)
    assert spec is not None and spec.loader is not None
    conversion = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conversion)
    conversion._convert_all(op.get_bind())


def upgrade():
    _convert_stragglers()
    op.drop_index(op.f("ix_answer_selections_choice_id"), table_name="answer_selections")
    op.drop_table("answer_selections")
    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.alter_column("shown_question_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("chosen", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("choices_shown")
        batch_op.drop_column("explanation")
        batch_op.drop_column("prompt")
        batch_op.drop_column("kind")
    # The analytics' picks are read from the answers' index too, with the results.
    _covering_index(["attempt_id", "is_correct", "id", "shown_question_id", "chosen"])


def downgrade():
    _covering_index(["attempt_id", "is_correct", "id"])
    # The columns come back empty and nullable; a19000000002's downgrade fills them from the
    # shown versions and makes them NOT NULL again.
    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("prompt", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("explanation", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("choices_shown", sa.JSON(), nullable=True))
        batch_op.alter_column("chosen", existing_type=sa.String(length=255), nullable=True)
        batch_op.alter_column("shown_question_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "answer_selections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("choice_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_correct", sa.Boolean(), nullable=False),
        sa.Column("misconception_code", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["attempt_answers.id"],
            name=op.f("fk_answer_selections_answer_id_attempt_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["choice_id"], ["choices.id"], name=op.f("fk_answer_selections_choice_id_choices"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_selections")),
        sa.UniqueConstraint("answer_id", "position", name=op.f("uq_answer_selections_answer_id_position")),
    )
    op.create_index(
        op.f("ix_answer_selections_choice_id"),
        "answer_selections",
        ["choice_id"],
        unique=False,
        postgresql_include=["answer_id"],
    )
