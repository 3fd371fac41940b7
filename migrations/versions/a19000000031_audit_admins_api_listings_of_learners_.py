"""An admin's token reading the list of learners is audited once a day

The CSV of learners an admin downloads is audited (``learners_downloaded``); the same list read
through the API, page by page, was not. Each token keeps the last day (UTC) it was recorded, so
a dashboard that polls all day makes one record a day, not one a request. Nothing to fill in:
no token has read the list under this rule yet.

Revision ID: a19000000031
Revises: a19000000030
Create Date: 2026-12-07 07:12:57.242915

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000031"
down_revision = "a19000000030"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learners_listed_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("learners_listed_on")
