"""The lock files in requirements/ agree with pyproject.toml.

`make run` and `make test` install only what the lock files pin, so a dependency added to
pyproject.toml without running `make lock` would be missing from a fresh install; this fails first.
"""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Each lock file and the extras of pyproject.toml it is made with (see `make lock`).
LOCKS = {"requirements/main.txt": ("redis",), "requirements/dev.txt": ("dev",)}


def pinned(lock: Path) -> dict[str, Version]:
    """The version of each package a lock file pins, by normalised name."""
    pins = {}
    # A pin runs over several lines ("name==1.0 ; marker \" then one "--hash=..." per line).
    for line in lock.read_text().replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line.split(" --hash")[0])
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{lock.name}: {line.split()[0]} is not pinned to one version"
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def required(extras: tuple[str, ...]) -> list[Requirement]:
    """pyproject.toml's requirements with the given extras, the project's own extras expanded."""
    project = canonicalize_name(PYPROJECT["name"])
    lines = list(PYPROJECT["dependencies"])
    for extra in extras:
        lines += PYPROJECT["optional-dependencies"][extra]
    requirements = []
    for line in lines:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == project:  # e.g. dev includes "naltrexone-course[redis]"
            requirements += [r for r in required(tuple(requirement.extras)) if r not in requirements]
        elif requirement not in requirements:
            requirements.append(requirement)
    return requirements


def extras_requirements(requirement: Requirement) -> list[Requirement]:
    """What the requirement's extras (psycopg[binary]) add, read from the installed package."""
    if not requirement.extras:
        return []
    found = []
    for line in metadata.requires(requirement.name) or []:
        dependency = Requirement(line)
        marker = dependency.marker
        # Only what the extra adds, and only where it applies to this Python and platform.
        if (
            marker
            and not marker.evaluate({"extra": ""})
            and any(marker.evaluate({"extra": e}) for e in requirement.extras)
        ):
            dependency.marker = None
            found.append(dependency)
    return found


def disagreements(lock: str, extras: tuple[str, ...]) -> list[str]:
    """Each requirement of pyproject.toml that the lock file lacks or pins to a version it excludes."""
    pins = pinned(ROOT / lock)
    problems = []
    for requirement in required(extras):
        for needed in [requirement, *extras_requirements(requirement)]:
            if needed.marker and not needed.marker.evaluate({"extra": ""}):
                continue  # not for this Python or platform
            version = pins.get(canonicalize_name(needed.name))
            if version is None:
                problems.append(f"{lock}: {needed} is not pinned")
            elif not needed.specifier.contains(version, prereleases=True):
                problems.append(f"{lock}: {needed.name}=={version} does not satisfy {needed}")
    return problems


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_every_requirement_of_pyproject_is_pinned_in_the_lock(lock, extras):
    problems = disagreements(lock, extras)
    assert not problems, "pyproject.toml changed without `make lock`:\n" + "\n".join(problems)


def test_the_runtime_lock_pins_what_the_dev_lock_pins():
    # The suite runs on the dev lock; a server installs the runtime lock: the same versions.
    runtime, dev = pinned(ROOT / "requirements/main.txt"), pinned(ROOT / "requirements/dev.txt")
    differing = [
        f"{name}: {version} here, {dev.get(name)} in dev"
        for name, version in runtime.items()
        if dev.get(name) != version
    ]
    assert not differing, "\n".join(differing)


def test_a_requirement_missing_from_the_lock_is_reported(monkeypatch):
    monkeypatch.setitem(PYPROJECT, "dependencies", [*PYPROJECT["dependencies"], "flask-babel>=4", "flask>=99"])
    problems = disagreements("requirements/main.txt", ("redis",))
    assert "requirements/main.txt: flask-babel>=4 is not pinned" in problems
    assert any(
        p.startswith("requirements/main.txt: flask==") and p.endswith("does not satisfy flask>=99") for p in problems
    )
