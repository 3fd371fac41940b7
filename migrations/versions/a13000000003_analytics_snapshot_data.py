"""Analytics snapshots keep the figures as data, not rendered HTML, and guard their refresh

The page now renders the figures on every request and a job computes them, so a snapshot keeps
the computed data (JSON), ``computed_at`` (None until the first refresh finishes) and
``refreshing_since`` (set while a refresh runs, so a second one skips). The old snapshots hold
only HTML, which the page can no longer use: the table is dropped and created again empty, and
the next scheduled refresh fills it. Downgrading does the same the other way (the next visit to
the old page computed its snapshot).

Revision ID: a13000000003
Revises: a13000000002
Create Date: 2026-12-04 20:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a13000000003"
down_revision = "a13000000002"
branch_labels = None
depends_on = None


def _keys():
    return (
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_analytics_snapshots_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_snapshots")),
        sa.UniqueConstraint("course_id", name=op.f("uq_analytics_snapshots_course_id")),
    )


def upgrade():
    op.drop_table("analytics_snapshots")
    op.create_table(
        "analytics_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("refreshing_since", sa.DateTime(timezone=True), nullable=True),
        *_keys(),
    )


def downgrade():
    op.drop_table("analytics_snapshots")
    op.create_table(
        "analytics_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        *_keys(),
    )
