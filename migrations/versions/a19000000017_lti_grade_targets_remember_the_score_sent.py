"""Each LTI line item remembers the last score its platform accepted, so lost ones are sent again

A score passback that gave up (the platform down past the job's retries) or was never queued
(Redis down) was lost with nothing to say whose or where. Each grade target now keeps the score
last accepted and when; the worker's hourly run sends any that differ from the person's score now.

Existing targets get ``sent_at`` (now) and no score: sent to before scores were remembered, they
count as having their score until their next passback. Sending every old score again at the first
hourly run would undo grades instructors changed by hand in their LMS.

Revision ID: a19000000017
Revises: a19000000016
Create Date: 2026-12-06 18:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000017"
down_revision = "a19000000016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lti_grade_targets") as batch:
        batch.add_column(sa.Column("sent_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    targets = sa.table("lti_grade_targets", sa.column("sent_at", sa.DateTime(timezone=True)))
    op.execute(targets.update().values(sent_at=sa.func.current_timestamp()))


def downgrade():
    with op.batch_alter_table("lti_grade_targets") as batch:
        batch.drop_column("sent_at")
        batch.drop_column("sent_score")
