"""requirements/pipeline.lock: what the workflows that hold credentials install, hash-locked and in step
with the versions the generated programs and the compiler declare."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

LOCK = ROOT / "requirements" / "pipeline.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ \\]+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M)


def locked() -> dict[str, str]:
    text = LOCK.read_text()
    pins = {canonicalize_name(m.group(1)): m.group(2) for m in PIN.finditer(text)}
    requirement_lines = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert len(pins) == len(requirement_lines), "every requirement is pinned with at least one hash"
    return pins


def test_every_package_is_pinned_with_hashes() -> None:
    assert len(locked()) > 20


def test_the_generated_programs_pins_are_the_locked_versions() -> None:
    pins = locked()
    for project in ("pulumi", "bootstrap"):
        for line in (ROOT / "generated" / project / "requirements.txt").read_text().splitlines():
            if line and not line.startswith("#"):
                name, version = line.split("==")
                assert pins[canonicalize_name(name)] == version, line


def test_the_compilers_dependencies_and_plan_extra_are_satisfied_by_the_lock() -> None:
    pins = locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in project["dependencies"] + project["optional-dependencies"]["plan"]:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), f"{text} vs {version}"


def test_credentialed_jobs_install_only_the_lock() -> None:
    for name in ("deploy.yml", "drift.yml", "integration-tests.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text()
        installs = re.findall(r"^\s+python -m pip install (.*)$", text, re.M)
        assert installs and set(installs) == {"--require-hashes --no-deps -r requirements/pipeline.lock"}, name
        assert "sophia-iac " not in re.sub(r"^#.*$", "", text, flags=re.M), name  # not installed there
