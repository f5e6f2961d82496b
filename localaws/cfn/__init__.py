"""The local AWS's CloudFormation, in place of moto's, as layers:

- `api/`: the actions, on moto's request parsing and serialisation;
- `operations/`: the stack operations (`create`, `update`, `delete`, `import_resources`), each
  over the stack's resources in dependency order (`waves`);
- `handlers`: one resource's step within an operation (events, faults, pace), through the
  provider of its type (`registry`; the providers are `localaws/providers/`, a nested stack's
  among them);
- beside them, what a change set holds (`change_set_computation`) and its record
  (`change_set_records`), import rules (`import_rules`), drift detection (`drift`,
  `drift_aware`), pre-deployment validation (`validation`), and the stack state the layers share
  (`stacks`, `state`, `loading`, `intrinsics`)."""
