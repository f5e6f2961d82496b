"""Built templates as files, for deploying on the local AWS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def build_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """env -> build/{env}/ directory with root.json, nested templates and manifest.json."""
    from mirror_infra.build import build

    root = tmp_path_factory.mktemp("localaws-build")
    shutil.copytree(REPO / "params", root / "params")
    return {env: build(env, root=root).directory for env in ("staging", "production")}
