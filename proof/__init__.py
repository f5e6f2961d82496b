"""`make aws-proof PROFILE=<profile> REGION=<region>`: the tool's own life on an AWS account,
through the real-account code path (an AWS profile, never --local), as one command that leaves
`aws-proof/junit.xml` and `aws-proof/summary.md` behind and nothing else on the account but
what cannot be deleted at once (KMS keys wait at least 7 days).

Outside the product, like `bench/`: it needs the repository (it runs `tests/conformance` and
makes the source document's environment with `tests/adopt/terraformed.py`), and it drives the
tool through its CLI, as a user would.
"""
