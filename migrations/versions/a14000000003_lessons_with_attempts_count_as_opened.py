"""Lessons with quiz attempts count as opened

Before opening a quiz recorded its lesson as opened, a learner who went straight to a quiz and
failed it had attempts on a lesson with no progress row, shown as "not opened yet". This data
migration gives each such (learner, lesson) a progress row opened at their first attempt. Rows
that exist are left as they are. Nothing to undo on downgrade: the rows are true either way.

Revision ID: a14000000003
Revises: a14000000002
Create Date: 2026-12-04 21:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a14000000003"
down_revision = "a14000000002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text(
            """
            INSERT INTO lesson_progress (user_id, lesson_id, opened_at)
            SELECT a.user_id, a.lesson_id, MIN(a.submitted_at)
            FROM quiz_attempts AS a
            WHERE NOT EXISTS (
                SELECT 1 FROM lesson_progress AS p WHERE p.user_id = a.user_id AND p.lesson_id = a.lesson_id
            )
            GROUP BY a.user_id, a.lesson_id
            """
        )
    )


def downgrade():
    pass
