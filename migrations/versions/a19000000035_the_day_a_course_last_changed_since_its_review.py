"""The day a course's content last changed since its review

Every lesson shows "Reviewed <date>"; content published after that review without another
one made the line untrue. The course now records the latest change not yet covered by the
review (``review.changed_since_review_on`` in course.yaml), and lessons say so under the review
line. Nullable, empty for every course until then: no change was recorded. A plain ALTER TABLE
ADD COLUMN on both databases.

Revision ID: a19000000035
Revises: a19000000034
Create Date: 2026-12-07 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000035"
down_revision = "a19000000034"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("courses", sa.Column("changed_since_review_on", sa.Date(), nullable=True))


def downgrade():
    op.drop_column("courses", "changed_since_review_on")
