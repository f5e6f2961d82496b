"""Checks against the live environment: `verify` (the seed's checklist), `smoke` (the seed's
tests plus the application's access patterns) and `drift` (CloudFormation drift detection on
every stack, plus the out-of-band nonce). Library code: typed results, typed errors, no printing.
"""
