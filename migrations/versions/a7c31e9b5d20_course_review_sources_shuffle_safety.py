"""Course review dates and help text, lesson sources, pinned choice order, safety-critical marks

Every new column has a server default, so existing rows get a value without a data pass:
questions shuffle (their authors pinned nothing), nothing is safety-critical until an author
says so, lessons have no sources and courses no review until the next import. Attempts are not
touched: each keeps the choices in the order that learner saw them.

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
    with op.batch_alter_table("courses") as batch_op:
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("next_review_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("help_markdown", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("help_html", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("misconceptions") as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=80), server_default="", nullable=False))
        batch_op.add_column(sa.Column("safety_critical", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("lessons") as batch_op:
        batch_op.add_column(sa.Column("sources", sa.JSON(), server_default="[]", nullable=False))
    # The text and JSON defaults only fill existing rows; new rows get theirs from the models.
    with op.batch_alter_table("courses") as batch_op:
        batch_op.alter_column("help_markdown", server_default=None)
        batch_op.alter_column("help_html", server_default=None)
    with op.batch_alter_table("misconceptions") as batch_op:
        batch_op.alter_column("title", server_default=None)
    with op.batch_alter_table("lessons") as batch_op:
        batch_op.alter_column("sources", server_default=None)
    with op.batch_alter_table("questions") as batch_op:
        batch_op.add_column(sa.Column("shuffle", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("choices") as batch_op:
        batch_op.add_column(sa.Column("safety_critical", sa.Boolean(), server_default=sa.false(), nullable=False))


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
