"""Shown questions: each version of a question as learners saw it, stored once

``shown_questions`` holds one row per distinct version of a question as shown (kind, prompt,
explanation and the choices in a canonical order, identified by ``content_hash``), and
``attempt_answers`` gains what is each answer's own: ``shown_question_id``, ``choice_order``
(the canonical indexes in the order shown, NULL when canonical) and ``chosen`` (the picked
canonical indexes). All new columns are nullable here; a19000000002 fills them in batches and
a19000000003 drops the copied snapshot columns and ``answer_selections``. A new table and new
nullable columns: no rewrite, only brief locks.

Revision ID: a19000000001
Revises: a18000000002
Create Date: 2026-12-05 01:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000001"
down_revision = "a18000000002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shown_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_shown_questions_question_id_questions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shown_questions")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_shown_questions_content_hash")),
    )
    op.create_index(op.f("ix_shown_questions_question_id"), "shown_questions", ["question_id"], unique=False)
    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_question_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("choice_order", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("chosen", sa.String(length=255), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_attempt_answers_shown_question_id_shown_questions"),
            "shown_questions",
            ["shown_question_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attempt_answers_shown_question_id_shown_questions"), type_="foreignkey")
        batch_op.drop_column("chosen")
        batch_op.drop_column("choice_order")
        batch_op.drop_column("shown_question_id")
    op.drop_index(op.f("ix_shown_questions_question_id"), table_name="shown_questions")
    op.drop_table("shown_questions")
