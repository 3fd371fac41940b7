"""The documentation stands alone: README and docs/ link only to what the repository holds.

The README once sent readers to a design document kept outside the repository; these tests
catch that, links and headings that lead nowhere, and files named in the text after they have
moved, and keep the README short enough to read (everything else belongs in docs/).
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_BUDGET_BYTES = 8 * 1024

# A folder beside the repository: whatever is there, a fresh clone does not have it.
OUTSIDE = "../" + "shared"  # split, so this file does not match its own search
# Source and documentation files a reader or a maintainer follows references in.
SCANNED_SUFFIXES = {".md", ".py", ".html", ".txt", ".toml", ".cfg", ".conf", ".yaml", ".yml", ".lua", ".ini"}
SCANNED_NAMES = {"Makefile", "run"}
SKIPPED_DIRS = {
    ".git",
    ".venv",
    ".peers",  # the test peers' own virtualenvs (make peers)
    "node_modules",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "instance",
    "__pycache__",
    "build",
    "results",
}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Inline code that names a file or folder of the repository, e.g. `app/services/pass_rule.py`.
REPO_PATH = re.compile(r"`((?:app|tests|bench|deploy|courses|migrations|docs)/[\w./-]+)`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prose(path: Path) -> str:
    """A page's text without its fenced code blocks (examples, not references)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def _anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(heading) for heading in HEADING.findall(_prose(path))}


def _scanned_files() -> list[Path]:
    """The repository's source and documentation files, without the virtualenv, caches and outputs."""
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_DIRS and not name.endswith(".egg-info")]
        files += [
            Path(folder) / name for name in names if Path(name).suffix in SCANNED_SUFFIXES or name in SCANNED_NAMES
        ]
    return files


def test_nothing_in_the_repository_points_outside_it():
    offenders = [
        _relative(path)
        for path in _scanned_files()
        if path != Path(__file__).resolve() and OUTSIDE in path.read_text(encoding="utf-8", errors="replace")
    ]

    assert not offenders, f"these refer to {OUTSIDE}, which is not in the repository: {offenders}"


@pytest.mark.parametrize("page", PAGES, ids=_relative)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
            continue
        path_part, _, fragment = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists() or ROOT not in (destination, *destination.parents):
            broken.append(f"{target}: no such file in the repository")
        elif fragment and destination.suffix == ".md" and fragment not in _anchors(destination):
            broken.append(f"{target}: no heading #{fragment} in {_relative(destination)}")

    assert not broken, f"{_relative(page)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=_relative)
def test_every_file_named_in_the_text_exists(page):
    """Code moves; the docs must move with it."""
    missing = sorted({name for name in REPO_PATH.findall(_prose(page)) if not (ROOT / name).exists()})

    assert not missing, f"{_relative(page)} names files that do not exist: {missing}"


def test_every_page_in_docs_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in LINK.findall(README.read_text())}

    assert [_relative(page) for page in DOCS if page.resolve() not in linked] == []


def test_the_readme_stays_short():
    """What the platform is, the two commands, the demo logins and where to read more: the rest is in docs/."""
    size = len(README.read_bytes())

    assert size <= README_BUDGET_BYTES, (
        f"README.md is {size} bytes; move detail into docs/ (budget {README_BUDGET_BYTES})"
    )


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The link, anchor and path patterns find the mistakes they exist for (so the tests above can fail)."""
    text = "See [x](missing.md), [y](design.md#no-such-heading), `app/services/gone.py` and `/counsel/<id>`."

    assert LINK.findall(text) == ["missing.md", "design.md#no-such-heading"]
    assert REPO_PATH.findall(text) == ["app/services/gone.py"]
    assert _anchor("Admins: authoring, publishing, users and analytics") == (
        "admins-authoring-publishing-users-and-analytics"
    )
    assert _prose(README).count("```") == 0
    named = "(`is_pass` in\n  `app/services/pass_rule.py`), `neutralise` (`app/spreadsheet.py`)"
    assert NAME_IN_MODULE.findall(named) == [
        ("is_pass", "app/services/pass_rule.py"),
        ("neutralise", "app/spreadsheet.py"),
    ]
    assert _table_variables("| `MAIL_SERVER`, `MAIL_PORT` | SMTP | none |") == {"MAIL_SERVER", "MAIL_PORT"}
    assert _make_targets_named("To make sure, run `PORT=8080 make run`:\n```sh\nmake test\n```\nthen make a copy.") == {
        "run",
        "test",
    }
    rows = _services_table(
        f"Also `sealing` and `keys`.\n\n{SERVICES_TABLE_HEADER}\n| x | `lti/`: `launch` |\n| y | `mail` |\n\n`sealing`"
    )
    assert rows[1:] == ["| x | `lti/`: `launch` |", "| y | `mail` |"]
    assert _unplaced(rows, ["mail", "sealing", "lti/launch", "lti/keys", "analytics/launch"]) == [
        "sealing",
        "lti/keys",
        "analytics/launch",
    ]


def test_the_course_format_page_documents_every_key_the_validator_accepts():
    from app.services import course_files

    key_sets = {name: value for name, value in vars(course_files).items() if name.endswith("_KEYS")}
    page = (ROOT / "docs" / "course-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", page, re.MULTILINE))

    assert len(key_sets) >= 8  # course, review, module, misconception, lesson, source, question, choice
    missing = {name: sorted(keys - documented) for name, keys in key_sets.items() if keys - documented}
    assert not missing, f"docs/course-format.md has no table row for: {missing}"


DEPLOY = ROOT / "deploy"
FLASK_COMMAND = re.compile(r"flask --app app ([a-z][\w-]*)(?: ([a-z][\w-]*))?")


def test_every_flask_command_in_the_docs_exists():
    """Backup, upgrade and rollback steps are followed under pressure: a command renamed in the code
    and not in the docs fails then."""
    from app import create_app
    from config import TestConfig

    commands = create_app(TestConfig).cli.commands
    texts = [page.read_text(encoding="utf-8") for page in PAGES] + [
        path.read_text(encoding="utf-8") for path in sorted(DEPLOY.iterdir()) if path.is_file()
    ]
    named = {match for text in texts for match in FLASK_COMMAND.findall(text)}
    assert ("db", "downgrade") in named and ("db", "check") in named and ("jobs", "worker") in named
    unknown = []
    for group, sub in sorted(named):
        command = commands.get(group)
        subcommands = getattr(command, "commands", None)
        if command is None or (sub and subcommands is not None and sub not in subcommands):
            unknown.append(f"flask {group} {sub}".strip())
    assert not unknown, f"the docs name commands the app does not have: {unknown}"


def _unit(name: str) -> dict[str, str]:
    """A systemd unit's settings (one value each; comments and section headers left out)."""
    lines = (DEPLOY / name).read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_web_and_worker_units_run_alike_from_one_environment_file():
    """The worker's unit read "the same file gunicorn's unit reads", and there was no gunicorn unit."""
    web, jobs = _unit("naltrexone-web.service"), _unit("naltrexone-jobs.service")
    for setting in ("User", "Group", "WorkingDirectory", "EnvironmentFile"):
        assert web[setting] == jobs[setting], setting
    venv = web["WorkingDirectory"] + "/.venv/bin/"
    assert web["ExecStart"].startswith(venv + "gunicorn -c gunicorn.conf.py ")
    assert jobs["ExecStart"].startswith(venv + "flask --app app jobs worker")
    assert (ROOT / "gunicorn.conf.py").exists()
    # The example environment file is production's, and the docs' cron lines read the same file.
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    assert re.search(r"^APP_ENV=production$", example, re.MULTILINE)
    assert web["EnvironmentFile"] in (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")


def test_the_backup_section_names_every_key_file_the_app_makes():
    """A key file added to config.py must be added to what the operators back up."""
    from config import DevelopmentConfig

    page = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = page[page.index("## Backups, restore and rollback") :]
    key_files = {
        Path(value).name for name, value in vars(DevelopmentConfig).items() if name.endswith("_FILE") and value
    }
    assert key_files >= {"secret_key", "credential_signing_key", "lti_private_key.pem"}
    assert not {name for name in key_files if f"`{name}`" not in section}
    for command in ("pg_dump --format=custom", "pg_restore", "flask --app app db check", "db downgrade"):
        assert command in section


DESIGN = ROOT / "docs" / "design.md"
# "`name` in `app/x.py`" or "`name` (`app/x.py`)": a function, class or constant the docs say a module holds.
NAME_IN_MODULE = re.compile(r"`([A-Za-z_]\w*)`(?:\(\))?\s+(?:in\s+|\()`((?:app/[\w/]+|config)\.py)`")


SERVICES_TABLE_HEADER = "| concern | modules in `app/services/` |"


def _services_table(page: str) -> list[str]:
    """The rows of docs/design.md's table of services by concern (and only them)."""
    lines = page[page.index(SERVICES_TABLE_HEADER) :].splitlines()
    return list(itertools.takewhile(lambda line: line.startswith("|"), lines))


def _unplaced(rows: list[str], modules: list[str]) -> list[str]:
    """The modules (``name`` or ``package/name``) no row of the table names: a package's modules
    in the row that names the package (``package/``), so one named elsewhere on the page, or a
    module of the same name in another package, does not count."""
    missing = []
    for module in modules:
        package, _, name = module.rpartition("/")
        placed = [row for row in rows if not package or f"`{package}/`" in row]
        if not any(f"`{name}`" in row for row in placed):
            missing.append(module)
    return missing


def test_every_services_module_is_placed_in_the_design_page():
    """docs/design.md's table of services by concern is how a reader finds where a rule lives; a
    module added without a line there is one the docs do not know."""
    services = ROOT / "app" / "services"
    modules = sorted(
        str(path.relative_to(services).with_suffix(""))
        for path in [*services.glob("*.py"), *services.glob("*/*.py")]
        if path.stem != "__init__"
    )
    assert len(modules) > 30
    missing = _unplaced(_services_table(_prose(DESIGN)), modules)
    assert not missing, f"docs/design.md's table of services does not name these modules of app/services: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_relative)
def test_every_name_said_to_be_in_a_module_is_there(page):
    """A function or constant renamed or moved fails here, not in a reader's search."""
    wrong = []
    for name, module in NAME_IN_MODULE.findall(_prose(page)):
        path = ROOT / module
        if path.exists() and not re.search(rf"\b{name}\b", path.read_text(encoding="utf-8")):
            wrong.append(f"`{name}` in `{module}`")
    assert not wrong, f"{_relative(page)} names what these modules do not hold: {wrong}"


CONFIGURATION = ROOT / "docs" / "deployment.md"
READS_ENVIRONMENT = re.compile(r"""(?:environ\.get|whole_number|positive_number)\(\s*["'](\w+)["']""")


def _variables_read() -> set[str]:
    """The environment variables config.py and gunicorn.conf.py read."""
    return {
        name
        for source in (ROOT / "config.py", ROOT / "gunicorn.conf.py")
        for name in READS_ENVIRONMENT.findall(source.read_text(encoding="utf-8"))
    }


def _table_variables(text: str) -> set[str]:
    """The variables named in the first column of the page's tables of variables."""
    rows = re.findall(r"^\| ([^|]*`[A-Z][A-Z0-9_]+`[^|]*) \|", text, re.MULTILINE)
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_every_variable_the_app_reads_is_documented_and_every_documented_one_is_read():
    """deployment.md's tables are the list an operator sets a site up from: a variable added to
    config.py and not there is unknown to them, and one there that nothing reads does nothing."""
    page = CONFIGURATION.read_text(encoding="utf-8")
    read = _variables_read()
    assert {"SECRET_KEY", "DATABASE_URL", "PROXY_HOPS", "BIND"} <= read
    # E2E_REQUIRED is CI's, for the test suite alone (docs/design.md#testing), not a site's setting.
    not_documented = sorted(name for name in read - {"E2E_REQUIRED"} if f"`{name}`" not in page)
    assert not not_documented, f"docs/deployment.md does not name these variables: {not_documented}"
    unread = sorted(_table_variables(page) - read)
    assert not unread, f"docs/deployment.md's tables name variables nothing reads: {unread}"


# A command is code: a fenced block or an inline span, so prose ("to make sure") names no target.
CODE = re.compile(r"^```.*?^```|`[^`\n]+`", re.MULTILINE | re.DOTALL)


def _make_targets_named(text: str) -> set[str]:
    """The make targets the text's commands run (``make run``, ``PORT=8080 make run``)."""
    return {target for code in CODE.findall(text) for target in re.findall(r"\bmake ([a-z][\w-]*)", code)}


def test_the_readme_commands_are_make_targets():
    """The README's two set-up commands, and the others it names, exist in the Makefile."""
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    named = _make_targets_named(README.read_text(encoding="utf-8"))
    assert {"run", "test"} <= named
    assert not named - targets, f"README.md names make targets the Makefile lacks: {sorted(named - targets)}"
