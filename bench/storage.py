"""What a population takes on disk: the database's size, its largest tables (with their indexes
and TOAST), and the bytes each stored answer takes in the answer tables that exist."""

from __future__ import annotations

# The tables holding answers, whichever of them the schema has now: answers may point at stored
# question versions (shown_questions) and their picks may have rows of their own.
ANSWER_TABLES = ("attempt_answers", "answer_selections", "shown_questions")

LARGEST_TABLES = (
    "SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), "
    "pg_indexes_size(c.oid), c.reltuples::bigint FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
    "ORDER BY pg_total_relation_size(c.oid) DESC, c.relname LIMIT %s"
)


def storage_facts(conn, *, largest: int = 10) -> dict:
    """The database's size in bytes, its ``largest`` tables (total = table + indexes + TOAST),
    and bytes per answer: the answer tables' total size over the rows of attempt_answers."""
    database_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    tables = [
        {"table": name, "total_bytes": total, "table_bytes": heap, "index_bytes": indexes, "rows_estimate": rows}
        for name, total, heap, indexes, rows in conn.execute(LARGEST_TABLES, (largest,))
    ]
    present = [name for name in ANSWER_TABLES if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]]
    answer_bytes = 0
    if present:
        answer_bytes = conn.execute(
            "SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest(%s::text[]) t", (present,)
        ).fetchone()[0]
    answers = conn.execute("SELECT count(*) FROM attempt_answers").fetchone()[0] if "attempt_answers" in present else 0
    return {
        "database_bytes": database_bytes,
        "largest_tables": tables,
        "answer_tables": present,
        "answer_tables_bytes": answer_bytes,
        "answers": answers,
        "bytes_per_answer": round(answer_bytes / answers, 1) if answers else None,
    }


def size_text(size: float) -> str:
    """Bytes in the unit that reads best (1,024-based: kB, MB, GB)."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
