"""The stack operations, one module each: `create`, `update` (with its rollback and
ContinueUpdateRollback), `delete` and `import_resources`. Each runs over a stack's resources in
dependency order (cfn/waves.py) and acts on each through cfn/handlers.py, which calls the
resource's provider; the API (cfn/api/) starts them."""
