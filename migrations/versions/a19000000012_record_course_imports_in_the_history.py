"""Publications record whether they were imported from the course's files

``flask courses import`` now records each import that changes a course (and a course's first
one) in its publication history, so the version learners see can always be restored. Such a
publication was not published by anybody: ``from_files`` says so, where a NULL publisher would
read as a deleted account. Existing rows were all published from drafts: false.

Revision ID: a19000000012
Revises: a19000000011
Create Date: 2026-12-06 13:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000012"
down_revision = "a19000000011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_publications") as batch:
        batch.add_column(sa.Column("from_files", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("course_publications") as batch:
        batch.drop_column("from_files")
