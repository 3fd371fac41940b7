"""A contact request's staff notes are added one by one, each with its author and time, never replaced

Until now a request had one notes text that any of the staff could overwrite: a colleague's
save replaced a counsellor's "Called 6:15pm, no answer. Try again tomorrow." and the trail said
only that the notes changed. Notes now live in ``contact_request_notes`` (CASCADE from the
request, SET NULL from the author's account), only ever added.

Each request's existing notes text becomes its first note, ``carried_over``: several people may
have written it, so it names no author; it is dated when the notes were last changed, if the
trail recorded it (the latest "noted" event), else when the request was made. Then the old
column goes (SQLite rebuilds ``contact_requests`` in batch mode: it has no triggers, and
migrations run with its foreign keys off, so its events keep their links). Downgrading joins
each request's notes, oldest first, back into the one text.

Revision ID: a19000000034
Revises: a19000000033
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000034"
down_revision = "a19000000033"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contact_request_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("carried_over", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_contact_request_notes_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["contact_requests.id"],
            name=op.f("fk_contact_request_notes_request_id_contact_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_request_notes")),
    )
    op.create_index(op.f("ix_contact_request_notes_author_id"), "contact_request_notes", ["author_id"], unique=False)
    op.create_index(op.f("ix_contact_request_notes_request_id"), "contact_request_notes", ["request_id"], unique=False)
    # One statement, in the database: no request's text passes through this process.
    op.execute(
        sa.text(
            "INSERT INTO contact_request_notes (request_id, author_id, text, created_at, carried_over) "
            "SELECT r.id, NULL, r.staff_note, COALESCE("
            "(SELECT MAX(e.created_at) FROM contact_request_events e WHERE e.request_id = r.id AND e.action = 'noted'), "
            "r.created_at), :carried FROM contact_requests r "
            "WHERE r.staff_note IS NOT NULL AND TRIM(r.staff_note) <> '' ORDER BY r.id"
        ).bindparams(carried=True)
    )
    with op.batch_alter_table("contact_requests") as batch:
        batch.drop_column("staff_note")


def downgrade():
    with op.batch_alter_table("contact_requests") as batch:
        batch.add_column(sa.Column("staff_note", sa.Text(), nullable=True))
    connection = op.get_bind()
    notes: dict[int, list[str]] = {}
    for request_id, text in connection.execute(
        sa.text("SELECT request_id, text FROM contact_request_notes ORDER BY request_id, created_at, id")
    ):
        notes.setdefault(request_id, []).append(text)
    for request_id, texts in notes.items():
        connection.execute(
            sa.text("UPDATE contact_requests SET staff_note = :note WHERE id = :id"),
            {"note": "\n\n".join(texts), "id": request_id},
        )
    op.drop_index(op.f("ix_contact_request_notes_request_id"), table_name="contact_request_notes")
    op.drop_index(op.f("ix_contact_request_notes_author_id"), table_name="contact_request_notes")
    op.drop_table("contact_request_notes")
