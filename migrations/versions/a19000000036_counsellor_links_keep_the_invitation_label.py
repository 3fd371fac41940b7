"""Counsellor links keep the label of the invitation their client accepted

A counsellor labels an invitation with whom it is for ("Sam, Tuesday group"); the label stayed on
the invitation, which is deleted 30 days after it is answered, so two clients of one name could not
be told apart on the counsellor's pages. Each link now keeps it. Live links made through an
invitation still kept get the label of the latest one their client accepted. A plain ALTER TABLE
ADD COLUMN on both databases: SQLite's batch mode would copy the table and drop its client-name
triggers (app/models/caseload_names.py).

Revision ID: a19000000036
Revises: a19000000035
Create Date: 2026-12-07 15:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000036"
down_revision = "a19000000035"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("counsellor_links", sa.Column("label", sa.String(length=80), nullable=True))
    # The latest accepted invitation with a label from this counsellor to this client, for each live link.
    op.execute(
        """
        UPDATE counsellor_links SET label = (
            SELECT invitations.label FROM invitations
            WHERE invitations.counsellor_id = counsellor_links.counsellor_id
              AND invitations.used_by_id = counsellor_links.learner_id
              AND invitations.accepted = true
              AND invitations.label IS NOT NULL
            ORDER BY invitations.used_at DESC, invitations.id DESC
            LIMIT 1
        )
        WHERE revoked_at IS NULL
        """
    )


def downgrade():
    op.drop_column("counsellor_links", "label")
