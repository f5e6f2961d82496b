"""Fixtures of the multi-region tests (the local AWS comes from tests/localaws_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror_infra.multiregion.run import VENV_DIR, taskcat_python
from tests.conftest import REPO


@pytest.fixture(scope="session")
def taskcat_venv() -> Path:
    """The taskcat interpreter that `make setup` installs; a clear failure when it is missing."""
    try:
        return taskcat_python()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{exc} (expected {REPO / VENV_DIR})")


@pytest.fixture
def taskcat_project(project: Path) -> Path:
    """The scratch project with the real taskcat.yml."""
    (project / "taskcat.yml").write_bytes((REPO / "taskcat.yml").read_bytes())
    return project
