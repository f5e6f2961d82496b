"""`mirror-infra adopt`: bring an environment that already exists (same names, live data) under
the stacks with CloudFormation's import, without changing a byte of its data (docs/adopt.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mirror_infra import render, ui
from mirror_infra.commands.common import hooks, open_deployment
from mirror_infra.errors import Aborted, ConfigError, ExitCode, StalePlanError

PLAN_KIND = "mirror-infra adopt"


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.adopt import run as adopting
    from mirror_infra.build import build
    from mirror_infra.deploy.plan import template_hashes

    out = getattr(args, "out", None)  # apply --plan runs a saved survey too (no --out there)
    if out and args.plan:
        raise ConfigError("--out saves a survey and --plan runs one: give one of them")
    saved = _load(Path(args.plan)) if args.plan else None
    dep = open_deployment(args, adopting=True)
    built = build(dep.cfg.name)
    survey = _survey(dep, built)
    render.adoption(survey)
    nonce = dep.ssm.parameter(dep.names.nonce_parameter(1))
    ui.out.print(
        f"nonce {dep.names.nonce_parameter(1)}: "
        + ("exists; kept as it is (never rewritten, never printed)" if nonce else "created after")
    )
    adopting.refuse_conflicts(survey, dep.cfg.name)
    adopting.refuse_unsettled(dep, dep.cfn.stack(dep.stack_name))  # before a survey is saved
    if not survey.adopted:
        ui.err.print("nothing to adopt: none of the environment's resources exists; run 'apply'")
        return ExitCode.OK
    hashes = template_hashes(built)
    if saved is not None:
        _check_fresh(saved, dep, survey, hashes)
    if out:
        _save(Path(out), dep, survey, hashes)
        ui.err.print(f"survey saved to {out}; run it with 'adopt --plan {out}'")
        return ExitCode.CHANGES
    if saved is None and not args.yes and not ui.confirm(f"Adopt these into {dep.stack_name}?"):
        raise Aborted("nothing changed; pass --yes to adopt without asking")
    adopted = adopting.adopt(dep, survey, hooks(on_plan=render.plan))
    ui.err.print(
        f"{dep.stack_name}: adopted {sum(len(v) for v in adopted.imported.values())} existing "
        f"resource(s) into {len(adopted.imported)} nested stack(s)"
    )
    stateful = sorted(adopted.retained)
    if stateful and not set(stateful) <= set(dep.cfg.data_safety.adopted):
        ui.err.print(
            f"they keep DeletionPolicy Retain (this tool did not create their data); to keep "
            f"it so, add to params/{dep.cfg.name}.yaml under data_safety: "
            f"adopted: [{', '.join(stateful)}] (without it the next plan shows switching them "
            "to the environment's policy as losing data, and refuses it unless named)",
            markup=False,
        )
    return _drift_of_adopted(dep, survey)


def _survey(dep, built):
    from mirror_infra.adopt.survey import Surveyor
    from mirror_infra.aws.inventory import Inventory

    inventory = Inventory(dep.target.client, dep.target.account_id, dep.target.region)
    return Surveyor(inventory, dep.target.region, dep.stack_name).survey(built)


def _drift_of_adopted(dep, survey) -> ExitCode:
    """AWS recommends drift detection after an import: what differs from the templates."""
    from mirror_infra.checks.base import open_environment
    from mirror_infra.checks.drift import detect

    ui.err.print("detecting drift on the adopted resources ...")
    report = detect(open_environment(dep))
    adopted = {r.path for r in survey.adopted}
    differences = [d for d in report.differences if f"{d.stack}.{d.resource}" in adopted]
    if not differences:
        ui.err.print("the adopted resources match the templates")
        return ExitCode.OK
    for d in differences:
        ui.out.print(
            f"drift: {d.stack}.{d.resource} {d.property}: template {d.expected}, actual {d.actual}",
            markup=False,
        )
    ui.err.print(
        "the adopted resources differ from the templates where shown; 'mirror-infra plan "
        f"--revert-drift --env {dep.cfg.name}' shows how to put the template's values back"
    )
    return ExitCode.OK


def _save(path: Path, dep, survey, hashes: dict) -> None:
    data = {
        "kind": PLAN_KIND,
        "env": dep.cfg.name,
        "region": dep.target.region,
        "template_hashes": hashes,
        "rows": survey.to_json(),
    }
    try:
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot be written ({exc.strerror or exc})") from None


def _load(path: Path) -> dict:
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


def _check_fresh(saved: dict, dep, survey, hashes: dict) -> None:
    if (saved.get("env"), saved.get("region")) != (dep.cfg.name, dep.target.region):
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


def register(sub, common) -> None:
    p = sub.add_parser(
        "adopt",
        parents=[common(change_state=True)],
        help="bring an environment that already exists under the stacks (import, no data change)",
    )
    p.add_argument("--out", metavar="FILE", help="save the survey to run later with --plan")
    p.add_argument("--plan", metavar="FILE", help="run a survey saved by 'adopt --out'")
    p.set_defaults(handler=run)
