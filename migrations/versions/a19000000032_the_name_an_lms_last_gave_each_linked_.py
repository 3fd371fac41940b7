"""The name an LMS last gave each linked person

So that a name changed in the LMS is followed here, unless the person has chosen another here
since (app/services/lti/identities.py, ``_follow_lms_name``). Left NULL for the links made
before: which of their accounts' names came from the LMS, and which were chosen here, cannot be
told apart now, so those names stay as they are; a change made in the LMS after their next launch
is followed.

Revision ID: a19000000032
Revises: a19000000031
Create Date: 2026-12-07 08:14:16.889350

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000032"
down_revision = "a19000000031"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lti_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lms_name", sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table("lti_identities", schema=None) as batch_op:
        batch_op.drop_column("lms_name")
