"""Spaced review of each learner's mistakes: review cards, review answers, a reminder for them

``review_cards`` holds one FSRS card per learner and question they got wrong (when to show it
again); ``review_answers`` keeps every answer given on the review page with the question as
shown, like ``attempt_answers``. ``reminder_settings.review_reminders`` is the opt-in for an
e-mail when questions are due (off by default). New tables and one added column: nothing
existing is rebuilt.

Revision ID: a14000000001
Revises: a13000000003
Create Date: 2026-12-04 20:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a14000000001"
down_revision = "a13000000003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "review_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("last_review", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_rating", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_review_cards_question_id_questions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_review_cards_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cards")),
        sa.UniqueConstraint("user_id", "question_id", name=op.f("uq_review_cards_user_id_question_id")),
    )
    op.create_index(op.f("ix_review_cards_question_id"), "review_cards", ["question_id"], unique=False)
    op.create_index("ix_review_cards_user_due", "review_cards", ["user_id", "due"], unique=False)
    op.create_table(
        "review_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("is_correct", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("choices_shown", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["review_cards.id"], name=op.f("fk_review_answers_card_id_review_cards"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_review_answers_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_review_answers_question_id_questions"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_review_answers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_answers")),
        sa.UniqueConstraint("user_id", "submission_key", "position", name=op.f("uq_review_answers_user_id_submission_key_position")),
    )
    op.create_index(op.f("ix_review_answers_card_id"), "review_answers", ["card_id"], unique=False)
    op.create_index(op.f("ix_review_answers_course_id"), "review_answers", ["course_id"], unique=False)
    op.create_index("ix_review_answers_user_answered", "review_answers", ["user_id", "answered_at"], unique=False)
    # A plain ADD COLUMN on both databases (no batch rebuild of a table with rows).
    op.add_column(
        "reminder_settings", sa.Column("review_reminders", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    with op.batch_alter_table("reminder_settings") as batch_op:
        batch_op.drop_column("review_reminders")
    op.drop_index("ix_review_answers_user_answered", table_name="review_answers")
    op.drop_index(op.f("ix_review_answers_course_id"), table_name="review_answers")
    op.drop_index(op.f("ix_review_answers_card_id"), table_name="review_answers")
    op.drop_table("review_answers")
    op.drop_index("ix_review_cards_user_due", table_name="review_cards")
    op.drop_index(op.f("ix_review_cards_question_id"), table_name="review_cards")
    op.drop_table("review_cards")
