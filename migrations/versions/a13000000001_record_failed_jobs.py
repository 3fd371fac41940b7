"""Record failed jobs

One row per background job that failed on every try (app/models/jobs.py ``JobFailure``): its
name, task id, number of tries and the error's type and a short message, never its arguments.
The authoring home counts the last day's rows; ``flask jobs failed`` lists them. A new table
only: nothing existing is rebuilt.

Revision ID: a13000000001
Revises: 8c5b954d54c9
Create Date: 2026-12-04 20:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a13000000001"
down_revision = "8c5b954d54c9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
    )
    op.create_index(op.f("ix_job_failures_failed_at"), "job_failures", ["failed_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_job_failures_failed_at"), table_name="job_failures")
    op.drop_table("job_failures")
