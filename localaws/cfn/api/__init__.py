"""The CloudFormation API of the local AWS: moto's request parsing and serialisation, with the
stack operations answered by this package's engine, change sets, drift detection, template
summaries (with ResourceIdentifierSummaries) and the calls moto lacks
(UpdateTerminationProtection, CancelUpdateStack, the four drift calls).

`HANDLERS` maps each action's moto method name to its handler; `install()` sets them on
moto's CloudFormationResponse."""

from __future__ import annotations

from localaws.cfn.api import change_sets, drift, resources, stacks, template_summary

HANDLERS = {
    fn.__name__: fn
    for fn in (
        stacks.create_stack,
        stacks.update_stack,
        stacks.delete_stack,
        change_sets.create_change_set,
        change_sets.describe_change_set,
        change_sets.list_change_sets,
        change_sets.delete_change_set,
        change_sets.execute_change_set,
        change_sets.describe_events,
        stacks.describe_stacks,
        stacks.list_stacks,
        resources.describe_stack_events,
        resources.describe_stack_resources,
        resources.describe_stack_resource,
        resources.list_stack_resources,
        stacks.update_termination_protection,
        stacks.cancel_update_stack,
        stacks.continue_update_rollback,
        drift.detect_stack_drift,
        drift.describe_stack_drift_detection_status,
        drift.describe_stack_resource_drifts,
        drift.detect_stack_resource_drift,
        template_summary.get_template_summary,
    )
}
