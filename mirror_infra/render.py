"""How results look to a person and to a machine: the change, event, output, check and drift
tables, in one place. Commands call these; nothing here talks to AWS."""

from __future__ import annotations

import time
from dataclasses import asdict

from rich.text import Text

from mirror_infra import ui
from mirror_infra.aws.cfn_answers import NESTED_STACK
from mirror_infra.aws.status import is_complete, is_failure
from mirror_infra.errors import ExitCode
from mirror_infra.names import SEED_OUTPUTS

# a drift-aware row whose before value is the last deployment's (BeforeValueFrom
# PREVIOUS_DEPLOYMENT_STATE) and carries no Drift.ActualValue: AWS did not read the resource
NOT_READ = "not read (AWS compared with the last deployment)"


def _actual(value: str | None) -> str:
    return NOT_READ if value is None else value


def plan(plan) -> None:
    from mirror_infra.deploy.risk import Risk

    if plan.note:
        ui.out.print(plan.note)
    for finding in plan.validation:
        ui.out.print(f"pre-deployment validation: {finding}", markup=False)
    if plan.drifted:
        ui.out.print(
            ui.table(
                "Drifted properties the plan puts back",
                ["Resource", "Property", "Template", "Last deployment", "Actual"],
                [
                    [d.resource, d.property, d.template, d.previous, _actual(d.actual)]
                    for d in plan.drifted
                ],
            )
        )
    if not plan.changes:
        return
    rows = [
        [
            c.action,
            "  " * c.depth + c.logical_id,
            c.resource_type,
            c.replacement + (f" ({c.policy_action})" if c.policy_action else ""),
            ", ".join(c.properties) + (f"if {c.condition}" if c.condition else ""),
            c.reason  # a phantom: "no change: ..." and why
            if c.phantom
            else c.risk.value + (f": {c.reason}" if c.reason else "")
            if c.risk is Risk.SAFE
            else ui.styled(c.risk.value + (f": {c.reason}" if c.reason else ""), "bold red"),
        ]
        for c in plan.changes
    ]
    table = ui.table(
        f"Changes to {plan.stack_name} ({'create' if plan.create else 'update'})",
        ["Action", "Logical ID", "Type", "Replacement", "Properties", "Risk"],
        rows,
    )
    ui.out.print(table)
    ui.out.print(_summary(plan))
    if plan.create:
        ui.out.print(
            "after the stack: the redaction nonce is created in SSM if missing "
            "(never overwritten, never printed)"
        )


def _summary(plan) -> str:
    """The plan's counts: phantom rows (shown, proven to change nothing) are not changes."""
    real = [c for c in plan.changes if not c.phantom]
    counts = {a: sum(c.action == a for c in real) for a in ("Add", "Modify", "Remove")}
    phantoms = len(plan.changes) - len(real)
    return (
        f"{counts['Add']} to add, {counts['Modify']} to modify, {counts['Remove']} to remove; "
        f"{len(plan.destructive())} would replace, delete or lose data"
        + (f"; {phantoms} shown by AWS but change nothing (issue 759)" if phantoms else "")
    )


def _cell(value: object) -> str:
    """A markdown table cell: pipes escaped, one line."""
    return " ".join(str(value).split()).replace("|", "\\|")


def plan_markdown(plan, outside: list[str], notices: list[str] = ()) -> str:
    """The change table and its risk summary as GitHub-flavoured markdown (a PR comment)."""
    from mirror_infra.deploy.risk import Risk

    kind = "create" if plan.create else "update"
    lines = [f"### mirror-infra plan: `{plan.stack_name}` ({kind}, {plan.env}, {plan.region})", ""]
    if plan.note:
        lines += [_cell(plan.note), ""]
    if plan.validation:
        lines += ["Pre-deployment validation:", *(f"- {_cell(f)}" for f in plan.validation), ""]
    if plan.changes:
        lines += [
            "| | Action | Resource | Type | Replacement | Properties | Risk |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for c in plan.changes:
            risky = c.risk is not Risk.SAFE
            risk = (
                f"**{c.risk.value}**" + (f": {c.reason}" if c.reason else "")
                if risky
                else c.reason
                if c.phantom
                else "safe"
            )
            lines.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        ":warning:" if risky else "",
                        c.action,
                        f"`{c.qualified_id}`",
                        c.resource_type,
                        c.replacement + (f" ({c.policy_action})" if c.policy_action else ""),
                        ", ".join(c.properties) + (f" (if {c.condition})" if c.condition else ""),
                        risk,
                    )
                )
                + " |"
            )
        destructive = len(plan.destructive())
        lines += ["", f"**{_summary(plan)}.**"]
        if destructive:
            lines.append(
                "Destructive rows are refused unless each is named with `--allow-data-loss`."
            )
    elif not outside:
        lines.append("No changes.")
    if outside:
        lines += ["", "Outside CloudFormation, apply will:", *(f"- {item}" for item in outside)]
    if notices:
        lines += ["", "Notice:", *(f"- {_cell(n)}" for n in notices)]
    return "\n".join(lines) + "\n"


def plan_json(plan) -> dict:
    data = asdict(plan)
    data["destructive"] = [c.qualified_id for c in plan.destructive()]
    return data


def plan_document(plan, outside: list[str], notices: list[str]) -> dict:
    """`plan --json`: the plan, what apply changes outside CloudFormation, the notices."""
    return {**plan_json(plan), "outside_cloudformation": outside, "notices": notices}


def apply_outcome(applied) -> dict:
    """`apply --json`'s final `outcome` after a finished apply: status, nonce, protection and
    the eight outputs under the seed's names."""
    done = applied.finish
    return {
        "ok": True,
        "status": str(applied.finished.status) if applied.finished else "NO_CHANGES",
        "nonce": done.nonce_name,
        "nonce_created": done.nonce_created,
        "termination_protection": done.termination_protection,
        "outputs": outputs_json(done.outputs),
    }


def outputs_json(found) -> dict[str, str]:
    """`outputs --json` (and apply's outcome): the eight outputs under the seed's names."""
    return {seed: found.values.get(key, "") for seed, key in SEED_OUTPUTS.items()}


def failed_outcome(failed) -> dict:
    """The final `outcome` of a stack operation that failed (apply, destroy)."""
    return {"ok": False, "status": str(failed.finished.status), "error": str(failed)}


def destroy_outcome(teardown, nonce_versions_deleted: list[str]) -> dict:
    """`destroy --json`'s final `outcome` after the stack was deleted."""
    return {
        "ok": True,
        "status": "DELETE_COMPLETE",
        "deleted": [i.qualified_id for i in teardown.deleted],
        "retained": [i.qualified_id for i in teardown.retained],
        "nonce_versions_deleted": nonce_versions_deleted,
        # what became of each nonce version and of the key it is encrypted under
        "nonce": [
            {
                "name": name,
                "kept": name not in nonce_versions_deleted,
                "key": teardown.nonce_keys[name].name.lower(),
            }
            for name in teardown.nonce_versions
        ],
    }


def status_json(
    dep,
    info,
    nested: dict[str, str],
    versions: list[str],
    policies: str,
    unprotected: list[str] | None = None,
) -> dict:
    """`status`: the root stack, its nested stacks, its guards and the nonce versions, and
    what an open window lacks, when one is open (the text view is drawn from it too)."""
    if info is None:
        return {"stack": dep.stack_name, "status": "NOT_DEPLOYED"}
    data = {
        "stack": dep.stack_name,
        "status": info.status.value,
        "reason": info.reason,
        "last_updated": info.last_updated,
        "termination_protection": info.termination_protection,
        "stack_policies": policies,
        "nested_stacks": nested,
        "nonce_versions": versions,
    }
    if unprotected:
        data["unprotected"] = unprotected
    return data


def drift_json(env, report) -> dict:
    """`drift --json`: every stack's detection and every difference."""
    return {
        "environment": env.dep.cfg.name,
        "target": env.dep.target.describe(),
        "drifted": report.drifted,
        "errors": report.errors,
        "stacks": [
            {k: v for k, v in asdict(s).items() if k != "differences"} for s in report.stacks
        ],
        "differences": [asdict(d) for d in report.differences],
    }


def taskcat_json(outcome, environment: str) -> dict:
    """`taskcat --json`: each region's test."""
    return {
        "passed": outcome.passed,
        "environment": environment,
        "report": str(outcome.report),
        "regions": [
            {
                "test": r.test,
                "region": r.region,
                "stack": r.stack_name,
                "status": r.status,
                "final_status": r.final_status,
                "passed": r.passed,
                "problems": list(r.problems),
            }
            for r in outcome.regions
        ],
    }


def upgrade_json(results, environment: str) -> dict:
    """`taskcat --upgrade-from --json`: each region's upgrade, change by change."""
    return {
        "passed": all(r.passed for r in results),
        "environment": environment,
        "regions": [
            {
                "region": r.region,
                "previous": r.previous_status,
                "status": r.status,
                "passed": r.passed,
                "changes": [
                    {
                        "action": c.action,
                        "resource": c.qualified_id,
                        "type": c.resource_type,
                        "replacement": c.replacement,
                        "risk": c.risk.value,
                    }
                    for c in r.changes
                ],
                "destructive": [c.qualified_id for c in r.destructive],
                "refused": [c.qualified_id for c in r.refused],
                "problems": r.problems,
                "error": r.error,
                "cleaned": r.cleaned,
            }
            for r in results
        ],
    }


class StateChanges:
    """Passes on one event per resource state change: AWS reports a resource's
    *_IN_PROGRESS twice (requested, then "Resource creation Initiated"), and a nested stack's
    status both from its parent and from its own events. A status repeats legitimately only
    in a rollback, which starts a new phase."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.phase = 0
        self.seen: set[tuple[int, str, str]] = set()

    def __call__(self, event) -> None:
        status = str(event.status)
        if event.resource_type == NESTED_STACK and "ROLLBACK_IN_PROGRESS" in status:
            self.phase += 1
        key = (self.phase, event.qualified_id, status)
        if key in self.seen:
            return
        self.seen.add(key)
        self.sink(event)


class EventPrinter:
    """Prints each stack event as one line, with a count of finished resources."""

    def __init__(self, total: int) -> None:
        self.started = time.monotonic()
        self.total = total
        self.done: set[str] = set()

    def __call__(self, event) -> None:
        if is_complete(event.status) and event.resource_type != NESTED_STACK:
            self.done.add(event.qualified_id)
        colour = (
            "red" if is_failure(event.status) else ("green" if is_complete(event.status) else "")
        )
        progress = f"{len(self.done)}/{self.total}" if self.total else str(len(self.done))
        reason = f"  {event.reason}" if event.reason and is_failure(event.status) else ""
        # assembled as Text: stack events carry brackets ("[ConsentTable]") that are not markup
        ui.err.print(
            Text.assemble(
                f"{time.monotonic() - self.started:6.1f}s [{progress:>7}] "
                f"{event.qualified_id:<40} {event.resource_type:<32} ",
                (event.status, colour),
                reason,
            ),
            highlight=False,
        )


def outputs(outputs: dict[str, str]) -> None:
    from mirror_infra.names import SEED_OUTPUTS

    rows = [[seed, outputs.get(key, "")] for seed, key in SEED_OUTPUTS.items()]
    ui.out.print(ui.table("Outputs", ["Output", "Value"], rows))


def env_lines(variables: dict[str, str]) -> str:
    """NAME=value lines, as a .env file and GitHub's $GITHUB_ENV read them."""
    return "".join(f"{name}={value}\n" for name, value in variables.items())


def checks(title: str, checks, as_json: bool, env, junit_path=None) -> ExitCode:
    """Print pass/fail rows (verify and smoke alike); OK only when every row passed."""
    ok = all(c.ok for c in checks)
    if junit_path is not None:
        from mirror_infra import junit

        cases = [
            junit.Case(
                c.name,
                c.ok,
                "\n".join([c.evidence, *(f"warning: {w}" for w in c.warnings)]),
                "; ".join([*c.problems, *c.advice]),
            )
            for c in checks
        ]
        junit.write(junit_path, title, f"mirror_infra.{title.split()[0].lower()}", cases)
    if as_json:
        ui.print_json(
            {
                "environment": env.dep.cfg.name,
                "target": env.dep.target.describe(),
                "ok": ok,
                "checks": [asdict(c) for c in checks],
            }
        )
    else:
        rows = [[c.name, _result(c), c.evidence] for c in checks]
        ui.out.print(ui.table(title, ["Check", "Result", "Evidence"], rows))
        for c in checks:
            if c.link:
                ui.out.print(f"{c.name}: {c.link}", markup=False)
            if not c.ok:
                for advice in c.advice:
                    ui.out.print(f"{c.name}: {advice}", markup=False)
        passed = sum(c.ok for c in checks)
        warned = sum(bool(c.ok and c.warnings) for c in checks)
        ui.out.print(
            f"{passed}/{len(checks)} passed" + (f", {warned} with a warning" if warned else "")
        )
    if not ok:
        failed = [c.name for c in checks if not c.ok]
        ui.err.print(
            f"error: {len(failed)} of {len(checks)} failed: {', '.join(failed)}", markup=False
        )
    return ExitCode.OK if ok else ExitCode.ERROR


def _result(check):
    if not check.ok:
        return ui.styled("FAIL", "bold red")
    return ui.styled("WARN", "yellow") if check.warnings else ui.styled("PASS", "green")


def drift(report) -> None:
    stacks = [
        [
            s.stack,
            s.detection.value,
            s.drift_status,
            str(len({d.resource for d in s.differences})),
            ", ".join(s.not_checked),
        ]
        for s in report.stacks
    ]
    ui.out.print(
        ui.table("Stacks", ["Stack", "Detection", "Drift", "Drifted", "Not checked"], stacks)
    )
    differences = report.differences
    if differences:
        rows = [
            [d.stack, d.resource, d.resource_type, d.status, d.property, d.expected, d.actual]
            for d in differences
        ]
        columns = ["Stack", "Resource", "Type", "Status", "Property", "Expected", "Actual"]
        ui.out.print(ui.table("Drift", columns, rows))
    not_checked = sum(len(s.not_checked) for s in report.stacks)
    resources = len({(d.stack, d.resource) for d in differences})
    ui.out.print(
        f"{len(report.stacks)} stacks checked; {resources} resource(s) drifted; "
        f"{not_checked} resource(s) not checked (drift detection does not support them)"
    )


def root_cause(finished) -> None:
    """The first failure of a failed operation, from whichever stack it came."""
    cause = finished.root_cause
    if cause is None:
        return
    where = f" in {cause.stack} stack" if cause.stack else ""
    ui.err.print(
        Text.assemble(
            (f"root cause{where}:", "red"),
            f" {cause.logical_id} ({cause.resource_type}) {cause.status}: {cause.reason}",
        ),
        highlight=False,
    )


def error_json(message: str, code: int, document=None) -> dict:
    """A one-document command's JSON when it failed: its document with the error, when it
    had made one (a plan refused for its destructive rows), else the error alone."""
    made = document if isinstance(document, dict) else {}
    return {**made, "ok": False, "error": message, "exit_code": code}


def outcome_json(code: int, error: str | None = None, status: str | None = None) -> dict:
    """An event stream's final `outcome`, where the command wrote none of its own."""
    data: dict = {"ok": code == 0 and error is None, "exit_code": code}
    if error is not None:
        data["error"] = error
    if status is not None:
        data["status"] = status
    return data


def json_line(kind: str, **data) -> None:
    """One JSON object on one line of stdout (an event stream for machines)."""
    ui.write_line({"type": kind, **data})


def event_json(event) -> None:
    json_line(
        "event",
        stack=event.stack,
        resource=event.qualified_id,
        resource_type=event.resource_type,
        status=str(event.status),
        reason=event.reason,
        timestamp=event.timestamp.isoformat(),
    )


def adoption(survey) -> None:
    """`adopt`'s survey: each resource, its physical id, and what happens to it."""
    from mirror_infra.adopt.survey import Action

    styles = {
        Action.IMPORT: "green",
        Action.CREATE: "",
        Action.CONFLICT: "bold red",
        Action.MANAGED: "green",
    }
    rows = [
        [
            r.path,
            r.type,
            r.physical_id,
            ui.styled(r.action.value, styles[r.action]) if styles[r.action] else r.action.value,
            r.why,
        ]
        for r in survey.rows
    ]
    ui.out.print(
        ui.table(
            "What exists, and what adopt does with it",
            ["Resource", "Type", "Physical ID", "Adopt", "Notes"],
            rows,
        )
    )
    counts = {a: sum(r.action is a for r in survey.rows) for a in Action}
    ui.out.print(
        f"{counts[Action.IMPORT]} to import, {counts[Action.CREATE]} to create, "
        f"{counts[Action.CONFLICT]} in conflict"
        + (f", {counts[Action.MANAGED]} in the stacks already" if counts[Action.MANAGED] else "")
    )
    for note in survey.left:
        ui.out.print(note, markup=False)
