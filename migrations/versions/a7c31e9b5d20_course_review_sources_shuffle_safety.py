"""Course review dates and help text, lesson sources, pinned choice order, safety-critical marks

Every new column has a server default or is nullable, so existing rows get a value without a
data pass and SQLite adds each column in place (no table is rebuilt, which its foreign keys
would refuse with rows present): questions shuffle (their authors pinned nothing), nothing is
safety-critical until an author says so, lessons have no sources (NULL) and courses no review
until the next import. Attempts are not touched: each keeps the choices in the order that
learner saw them.

Revision ID: a7c31e9b5d20
Revises: 3b7e5d2a9c41
Create Date: 2026-12-04 17:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c31e9b5d20"
down_revision = "3b7e5d2a9c41"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not batch mode: SQLite adds these in place.
    op.add_column("courses", sa.Column("reviewed_by", sa.String(length=200), nullable=True))
    op.add_column("courses", sa.Column("reviewed_on", sa.Date(), nullable=True))
    op.add_column("courses", sa.Column("next_review_on", sa.Date(), nullable=True))
    op.add_column("courses", sa.Column("help_markdown", sa.Text(), server_default=sa.text("''"), nullable=False))
    op.add_column("courses", sa.Column("help_html", sa.Text(), server_default=sa.text("''"), nullable=False))
    op.add_column(
        "misconceptions", sa.Column("title", sa.String(length=80), server_default=sa.text("''"), nullable=False)
    )
    op.add_column(
        "misconceptions", sa.Column("safety_critical", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("lessons", sa.Column("sources", sa.JSON(), nullable=True))
    op.add_column("questions", sa.Column("shuffle", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("choices", sa.Column("safety_critical", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("choices") as batch_op:
        batch_op.drop_column("safety_critical")
    with op.batch_alter_table("questions") as batch_op:
        batch_op.drop_column("shuffle")
    with op.batch_alter_table("lessons") as batch_op:
        batch_op.drop_column("sources")
    with op.batch_alter_table("misconceptions") as batch_op:
        batch_op.drop_column("safety_critical")
        batch_op.drop_column("title")
    with op.batch_alter_table("courses") as batch_op:
        batch_op.drop_column("help_html")
        batch_op.drop_column("help_markdown")
        batch_op.drop_column("next_review_on")
        batch_op.drop_column("reviewed_on")
        batch_op.drop_column("reviewed_by")
