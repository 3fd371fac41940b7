"""Index progress views by the viewer's role and time, for the activity log

/author/activity lists the times an admin opened one learner's progress, newest first, a page at
a time; the only index had the learner first (a learner's own "who has looked" list), so the
log would have read every counsellor's views too.

Revision ID: a19000000019
Revises: a19000000018
Create Date: 2026-12-06 23:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000019"
down_revision = "a19000000018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("progress_views") as batch:
        batch.create_index("ix_progress_views_role_viewed", ["viewer_role", "viewed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("progress_views") as batch:
        batch.drop_index("ix_progress_views_role_viewed")
