"""What a run leaves in `aws-proof/`: `junit.xml` (every step a test case, its evidence as
system-out) and `summary.md` (one page to share: the account masked)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mirror_infra import __version__, junit
from proof import settled
from proof.cleanup import mask
from proof.run import CONFORMANCE, Proof

SUITE = "mirror-infra aws-proof"
WHAT_A_FAILURE_MEANS = {
    CONFORMANCE: "a fidelity bug of the local AWS (it must be made to behave as this account "
    "did; never the test bent to the emulator), or an AWS page that changed",
    "life": "a real-account bug of the tool (the same step passes on the local AWS in make "
    "test), or a behaviour the local AWS models wrongly; the step's evidence in junit.xml "
    "shows which command and which answer",
    "adopt": "a real-account bug of adopt, or of the Terraform stand-in's calls; the step's "
    "evidence in junit.xml shows which",
    "clean-up": "something the run made is still there: the clean-up lists it by name; run "
    "the proof again (it cleans up its record first) or delete it by hand",
}


def write(proof: Proof, seconds: float) -> tuple[Path, Path]:
    out = proof.settings.out
    cases = [s.case() for s in proof.steps]
    if proof.account:  # shareable too: the evidence names the account masked, as the summary
        hidden = mask(proof.account)
        cases = [
            replace(
                c,
                output=c.output.replace(proof.account, hidden),
                failure=c.failure.replace(proof.account, hidden),
            )
            for c in cases
        ]
    junit.write(out / "junit.xml", SUITE, "aws-proof", cases, seconds)
    summary = out / "summary.md"
    summary.write_text(markdown(proof, seconds), encoding="utf-8")
    return out / "junit.xml", summary


def markdown(proof: Proof, seconds: float) -> str:
    steps = proof.steps
    passed = sum(s.ok for s in steps)
    failed = [s for s in steps if not s.ok and not s.skipped]
    skipped = sum(bool(s.skipped) for s in steps)
    on_aws = proof.aws.is_aws
    endpoint = proof.aws.endpoint
    lines = [
        "# mirror-infra on an AWS account: the proof",
        "",
        f"- **result: {'PASS' if proof.passed else 'FAIL'}** — {passed} passed, "
        f"{len(failed)} failed, {skipped} skipped, {seconds:.0f} s",
        f"- account {mask(proof.account) if proof.account else 'unknown'}, region "
        f"{proof.settings.region}, profile {proof.settings.profile}"
        + ("" if on_aws else f" — **not AWS**: the profile's endpoint is {endpoint}"),
        f"- mirror-infra {__version__}; run {proof.run_id or 'none'}; "
        + (
            "its environments pinned to that account (params `accounts`)"
            if proof.pinned
            else "its environments not pinned: this version of the tool has no `accounts` key"
        ),
        "",
    ]
    if failed:
        lines += ["## What failed", ""]
        for s in failed:
            lines.append(f"- **{s.stage} / {s.name}**: {s.failure}")
            lines.append(f"  - what it means: {WHAT_A_FAILURE_MEANS.get(s.stage, '')}")
        lines.append("")
    lines += ["## Steps", "", "| stage | step | result | seconds |", "| --- | --- | --- | --- |"]
    conformance = [s for s in steps if s.stage == CONFORMANCE]
    if conformance and all(s.ok for s in conformance) and len(conformance) > 1:
        total = sum(s.seconds for s in conformance)
        lines.append(f"| conformance | {len(conformance)} tests | pass | {total:.1f} |")
        shown = [s for s in steps if s.stage != CONFORMANCE]
    else:
        shown = steps
    for s in shown:
        result = "pass" if s.ok else f"skipped: {s.skipped}" if s.skipped else "**FAIL**"
        lines.append(f"| {s.stage} | {s.name} | {result} | {s.seconds:.1f} |")
    pending = [o for o in proof.outcomes if o.pending]
    left = [o for o in proof.outcomes if o.left]
    lines += ["", "## Left on the account", ""]
    if not pending and not left:
        lines.append("Nothing: everything the run made is deleted.")
    for o in pending:
        lines.append(f"- {o.what}: {o.result}; a KMS key cannot be deleted at once")
    for o in left:
        lines.append(f"- **{o.what}**: {o.result}")
    results: dict[str, bool | None] = {s.name: (None if s.skipped else s.ok) for s in steps}
    lines += [
        "",
        "## What the README leaves open, settled or not by this run",
        "",
        "| behaviour | README | this run |",
        "| --- | --- | --- |",
    ]
    for item in settled.OPEN:
        verdict = settled.verdict(item, results, on_aws, endpoint)
        lines.append(f"| {item.behaviour} | {item.readme} | {verdict} |")
    lines.append("")
    return "\n".join(lines)
