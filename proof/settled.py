"""The behaviours the README does not claim from an AWS page or a run on AWS — marked
*documentation only*, *inferred*, **undocumented** or *to be settled on a real account* — and
which steps of the proof settle each when they pass on AWS itself (never on a stand-in such as
the local AWS).
`tests/proof/test_settled.py` checks that every such mark of the README is listed here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Open:
    behaviour: str
    readme: str  # the README's words for it, quoted exactly
    settled_by: tuple[str, ...] = ()  # steps (conformance: "module::test") that settle it
    why_not: str = ""  # when no step of the proof can settle it
    partial: str = ""  # what its steps' pass leaves open


OPEN = (
    Open(
        "AWS de-duplicates a retried ExecuteChangeSet, DeleteStack or ContinueUpdateRollback "
        "carrying the same ClientRequestToken",
        "AWS's de-duplication of a retried call: *documentation only*",
        why_not="the proof never retries a call whose answer was lost; that needs a fault "
        "between the call and its answer, which only a stand-in can inject",
    ),
    Open(
        "A HeadObject answered 403 (no s3:ListBucket) counts as an absent artifact",
        "the 403: *documentation only*",
        why_not="the proof's policy (docs/aws-proof-policy.json) grants s3:ListBucket on the "
        "artifacts bucket, so AWS answers 404",
    ),
    Open(
        "Whether AWS refuses a missing or already-owned resource to import at CreateChangeSet "
        "or fails the change set",
        "either is accepted, *to be settled on a real account*",
        settled_by=(
            "test_import::test_a_resource_that_is_missing_or_in_another_stack_is_not_imported",
        ),
        partial="the conformance test accepts either form: its pass shows that AWS refuses "
        "the import, not at which call",
    ),
    Open(
        "A drift-aware change set (REVERT_DRIFT) made directly on a nested stack, which no AWS "
        "page covers (nor REVERT_DRIFT with IncludeNestedStacks): the tool makes one per nested "
        "stack, the parent's next update keeps what it did, and a resource deleted out of band "
        "is re-created",
        "**undocumented**",
        settled_by=(
            "test_drift_aware::test_drift_aware_change_sets_are_refused_without_a_deployed_stack"
            "_or_with_nested_ones",
            "test_drift_aware::test_a_drift_aware_change_set_on_a_nested_stack_survives_the"
            "_parents_next_update",
            "test_drift_aware::test_a_resource_deleted_out_of_band_is_re_created",
            "plan --revert-drift",
            "apply the revert",
            "drift (exit 0)",
        ),
    ),
    Open(
        "A resource of a nested stack with DeletionPolicy RetainExceptOnCreate is deleted when "
        "its root's create rolls back, and kept when the root is deleted (the first create's "
        "copy of production's templates relies on it)",
        "is the reading taken, *to be settled on a real account*",
        settled_by=(
            "test_retain_except_on_create_nested::test_a_failed_root_create_deletes_a_nested"
            "_retain_except_on_create_resource",
            "test_retain_except_on_create_nested::test_deleting_the_root_keeps_a_nested_retain"
            "_except_on_create_resource",
        ),
    ),
    Open(
        "A KMS key still propagating looks to SSM like one that does not exist (InvalidKeyId)",
        "inferred from KMS's page, not shown",
        why_not="only a write in the seconds after an express-mode create can meet a key still "
        "propagating; the proof deploys in the default mode, and whether that moment comes is "
        "AWS's to decide",
    ),
    Open(
        "What AWS shows in a nested change set for a parameter fed by another nested stack's "
        "output (cloudformation-coverage-roadmap #759 gives no JSON): Modify rows with "
        "ParameterReference, Dynamic, the parameter as CausingEntity, which the plan proves "
        "phantom; and that executing them replaces nothing",
        "`tests/conformance/test_nested_outputs.py`, *to be settled on a real account*",
        settled_by=(
            "test_nested_outputs::test_a_parameter_fed_by_another_nested_stacks_output_shows"
            "_changes_that_do_not_happen",
        ),
    ),
)


def verdict(item: Open, results: dict[str, bool | None], on_aws: bool, endpoint: str) -> str:
    """One line: settled on this account, or why not. `results` maps step names to True
    (passed), False (failed) or None (skipped)."""
    if not item.settled_by:
        return f"not settled: {item.why_not}"
    if not on_aws:
        return f"not settled: this run's calls went to {endpoint}, not AWS"
    missing = [s for s in item.settled_by if results.get(s) is None]
    failed = [s for s in item.settled_by if results.get(s) is False]
    if failed:
        return f"not settled: {', '.join(failed)} failed (see junit.xml)"
    if missing:
        return f"not settled: {', '.join(missing)} did not run"
    if item.partial:
        return f"settled in part: {item.partial}"
    return "settled: " + ", ".join(item.settled_by) + " passed on AWS"
