"""Each counsellor link keeps its client's name as the dashboard sorts it, kept up to date by the database.

``counsellor_links.client_name_key`` is the lowercased display name of the link's learner while
they are a learner, else NULL (an account made staff is nobody's client). Lowercased by the
database's lower(), which on SQLite is Python's (app/sqlite_text.py), so every letter is folded. With the index on
(counsellor, name, learner) of live links, the counsellor's dashboard counts its caseload and
finds one page of it in name order from that index alone: the cost of a page no longer grows
with the caseload (at a million learners a counsellor of the benchmark has 8,300 clients).

The copy is written by triggers, so that every way a link is made or a name or role changes
(the sharing and admin services, LTI, the seeding, plain SQL) keeps it true: one when a link
is inserted, one when a user's name or role changes. The same statements serve ``create_all``
(tests, new databases: attached to the table below) and the migration that adds the column.
A later migration that rebuilds counsellor_links or users on SQLite (Alembic's batch mode
copies a table to alter it, and the copy has no triggers) must create these again:
tests/test_migration_caseload_names.py migrates to the head and would find them gone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import DDL, Table, event

# Each statement is written out whole (no formatting): the key is the users row's
# CASE WHEN role = 'learner' THEN lower(display_name) END in every one.
POSTGRESQL: Sequence[str] = (
    """
CREATE OR REPLACE FUNCTION counsellor_link_client_name() RETURNS trigger AS $$
BEGIN
    NEW.client_name_key := (
        SELECT CASE WHEN users.role = 'learner' THEN lower(users.display_name) END
        FROM users WHERE users.id = NEW.learner_id
    );
    RETURN NEW;
END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER counsellor_links_client_name BEFORE INSERT OR UPDATE OF learner_id ON counsellor_links
FOR EACH ROW EXECUTE FUNCTION counsellor_link_client_name()
""",
    """
CREATE OR REPLACE FUNCTION users_client_name_on_links() RETURNS trigger AS $$
BEGIN
    UPDATE counsellor_links
    SET client_name_key = CASE WHEN NEW.role = 'learner' THEN lower(NEW.display_name) END
    WHERE learner_id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER users_client_name_on_links AFTER UPDATE OF display_name, role ON users
FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.role IS DISTINCT FROM NEW.role)
EXECUTE FUNCTION users_client_name_on_links()
""",
)

SQLITE: Sequence[str] = (
    """
CREATE TRIGGER counsellor_links_client_name AFTER INSERT ON counsellor_links
BEGIN
    UPDATE counsellor_links
    SET client_name_key = (
        SELECT CASE WHEN users.role = 'learner' THEN lower(users.display_name) END
        FROM users WHERE users.id = NEW.learner_id
    )
    WHERE id = NEW.id;
END
""",
    """
CREATE TRIGGER users_client_name_on_links AFTER UPDATE OF display_name, role ON users
BEGIN
    UPDATE counsellor_links
    SET client_name_key = CASE WHEN NEW.role = 'learner' THEN lower(NEW.display_name) END
    WHERE learner_id = NEW.id;
END
""",
)

DROP_POSTGRESQL: Sequence[str] = (
    "DROP TRIGGER IF EXISTS users_client_name_on_links ON users",
    "DROP TRIGGER IF EXISTS counsellor_links_client_name ON counsellor_links",
    "DROP FUNCTION IF EXISTS users_client_name_on_links()",
    "DROP FUNCTION IF EXISTS counsellor_link_client_name()",
)
DROP_SQLITE: Sequence[str] = (
    "DROP TRIGGER IF EXISTS users_client_name_on_links",
    "DROP TRIGGER IF EXISTS counsellor_links_client_name",
)


def statements(dialect: str) -> Sequence[str]:
    """The statements creating the triggers on this database (none on another)."""
    return {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(dialect, ())


def attach(links: Table) -> None:
    """Create the triggers whenever ``create_all`` creates the links table (after users, which it references)."""
    for dialect, creating in (("postgresql", POSTGRESQL), ("sqlite", SQLITE)):
        for statement in creating:
            event.listen(links, "after_create", DDL(statement).execute_if(dialect=dialect))
