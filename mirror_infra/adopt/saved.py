"""A survey saved by `adopt --out`, and the check that it still holds before `adopt --plan`
(or `apply --plan`) runs it: same environment and region, same templates, the same existing
resources in the same places."""

from __future__ import annotations

import json
from pathlib import Path

from mirror_infra.adopt.survey import Survey
from mirror_infra.errors import ConfigError, StalePlanError

PLAN_KIND = "mirror-infra adopt"


def save(path: Path, env: str, region: str, survey: Survey, hashes: dict) -> None:
    data = {
        "kind": PLAN_KIND,
        "env": env,
        "region": region,
        "template_hashes": hashes,
        "rows": survey.to_json(),
    }
    try:
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot be written ({exc.strerror or exc})") from None


def load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--plan {path}: no such file; save one with 'adopt --out'") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"--plan {path}: not a survey saved by 'adopt --out' ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != PLAN_KIND:
        raise ConfigError(f"--plan {path}: not a survey saved by 'adopt --out'")
    return data


def is_survey(path: Path) -> bool:
    """Whether `path` holds a survey saved by 'adopt --out' (anything unreadable: no)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("kind") == PLAN_KIND


def check_fresh(saved: dict, env: str, region: str, survey: Survey, hashes: dict) -> None:
    if (saved.get("env"), saved.get("region")) != (env, region):
        raise StalePlanError(
            f"the survey is for {saved.get('env')} in {saved.get('region')}; pass the matching "
            "--env/--region"
        )
    if saved.get("template_hashes") != hashes:
        raise StalePlanError("the templates changed since the survey; run 'adopt' again")

    def key(rows) -> list:
        return sorted((r["path"], r["action"], r["physical_id"]) for r in rows)

    if key(saved.get("rows", [])) != key(survey.to_json()):
        raise StalePlanError(
            "the existing resources changed since the survey was saved; run 'adopt' again"
        )
