"""Who ended a sharing link: the learner, or (new) the counsellor

A counsellor can now stop seeing a client's progress (a client discharged, or gone to someone
else): until now only the learner could end a link, so a counsellor kept seeing every client
they ever had. Each link records which of them ended it; every link ended before was ended by
its learner, which is what the default says. A plain ALTER TABLE ADD COLUMN on both databases:
SQLite's batch mode would copy the table and drop its client-name triggers
(app/models/caseload_names.py).

Revision ID: a19000000033
Revises: a19000000032
Create Date: 2026-12-07 08:32:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000033"
down_revision = "a19000000032"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "counsellor_links", sa.Column("ended_by_counsellor", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    op.drop_column("counsellor_links", "ended_by_counsellor")
