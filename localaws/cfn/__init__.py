"""The local AWS's CloudFormation, in place of moto's: the API (`api/`), template loading
(`loading`), the stack operations (`creation`, `updating`, `deletion`, over `handlers`, `nested`
and `waves`), change sets (`changesets`, `change_rows`) and drift detection (`drift`)."""
