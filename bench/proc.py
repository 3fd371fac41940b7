"""CPU time read from /proc: a gunicorn server's, PostgreSQL's and the whole machine's.

Read before and after a wrk run, they split what a request cost the machine into the app (the
server's processes), the database (PostgreSQL's) and the rest (wrk, the kernel's networking,
anything else running). ``make bench-cpu`` (bench/cpu.py) measures the app and the database in
process; this is the same split over HTTP, where gunicorn and the sockets are paid for too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _stat(path: Path) -> tuple[str, list[str]] | None:
    """A process's command name and the fields of its stat(5) after it, or None if it has ended."""
    try:
        text = path.read_text()
    except OSError:  # the process ended meanwhile
        return None
    head, _, rest = text.rpartition(") ")  # the last: a command name may hold ") " itself
    return head.partition(" (")[2], rest.split()


def _ticks(fields: list[str], *, children: bool = False) -> int:
    # Fields 14 and 15 of stat(5) (utime, stime), 16 and 17 (cutime, cstime): here from field 3 on.
    own = int(fields[11]) + int(fields[12])
    return own + int(fields[13]) + int(fields[14]) if children else own


def postgres_cpu_seconds(proc: Path = PROC) -> float:
    """CPU time (user and system) used so far by every process named postgres on this machine.

    With the ended ones' (each process's cutime and cstime: the postmaster's are the backends it
    has waited for). A backend ends when its client disconnects, as a recycled gunicorn worker's
    do: without them, PostgreSQL's time over a run came out short, even below zero.
    """
    ticks = 0
    for stat in proc.glob("[0-9]*/stat"):
        found = _stat(stat)
        if found is not None and found[0] == "postgres":
            ticks += _ticks(found[1], children=True)
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(master_pid: int, proc: Path = PROC) -> float:
    """CPU time used so far by a gunicorn master and its workers.

    The master's own time and its ended workers' (cutime and cstime: the children it has
    waited for), plus each live worker's. Read before and after a run, the difference is the
    run's even when workers were recycled meanwhile: a worker that ends mid-run moves from the
    live sum (its time until then) to the master's children (its whole life).
    """
    master = _stat(proc / str(master_pid) / "stat")
    if master is None:
        return 0.0
    ticks = _ticks(master[1], children=True)
    for stat in proc.glob("[0-9]*/stat"):
        found = _stat(stat)
        if found is not None and int(found[1][1]) == master_pid:  # field 4: the parent's pid
            ticks += _ticks(found[1])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds(proc: Path = PROC) -> float:
    """CPU time in use so far over every CPU of the machine (all but idle and I/O wait), from /proc/stat."""
    fields = [int(value) for value in (proc / "stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far: by the server, by PostgreSQL and by the whole machine."""

    app: float
    database: float
    machine: float

    @classmethod
    def of(cls, master_pid: int, proc: Path = PROC) -> CpuSample:
        """A sample for the gunicorn server whose master is ``master_pid``."""
        return cls(server_cpu_seconds(master_pid, proc), postgres_cpu_seconds(proc), machine_cpu_seconds(proc))


def cpu_per_request(before: CpuSample, after: CpuSample, requests: int) -> dict[str, float] | None:
    """The CPU each of ``requests`` cost between two samples, in ms: the app's, the database's and the rest's."""
    if requests <= 0:
        return None
    app, database = after.app - before.app, after.database - before.database
    rest = max(0.0, (after.machine - before.machine) - app - database)
    parts = {"app": app, "database": database, "rest": rest}
    return {key: round(seconds / requests * 1000, 3) for key, seconds in parts.items()}
