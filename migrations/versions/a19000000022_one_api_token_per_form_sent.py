"""Each API token keeps the key of the /me/tokens form that made it, one token per key

A double-click on "Make the token" sent the form twice, each with the session cookie from
before the first answer, so the key kept in the session could not stop the second: two tokens
were made and the browser showed only the second answer. A unique (user_id, form_key) lets
only the first through. Tokens made before have no key; NULLs never clash in a unique
constraint on either database, so they stay as they are.

Revision ID: a19000000022
Revises: a19000000021
Create Date: 2026-12-07 05:32:02.756062

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000022"
down_revision = "a19000000021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_key", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_api_tokens_user_id_form_key"), ["user_id", "form_key"])


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_api_tokens_user_id_form_key"), type_="unique")
        batch_op.drop_column("form_key")
