"""The local AWS: moto's server on loopback with the gaps of SPEC §4 closed, so that this
environment deploys, updates, drifts and is deleted as on AWS.

Public API:
- `install()`: apply every correction to moto in this process (idempotent);
- `LocalAws(port=0, pace=0.0).start()` / `.url` / `.reset()` / `.stop()`: a server in a thread;
- `python -m localaws serve --port N [--pace X]`: a server in the foreground (what
  `mirror-infra local start` runs in the background);
- `POST /localaws/settings` (JSON: pace, throttle_share, throttle_seed, throttle_services,
  fail_create, fail_update, fail_rollback, hold_update) switches the paced mode and the fault
  switch on a running server (pacing.py); `reset()` goes back to instant mode with no faults.

It imports nothing from the tool, and the tool never imports it: the tool reaches it only
through its endpoint URL. It is installed with the `local` extra (moto's server).

Where each gap of SPEC §4 is closed is listed in `gaps.GAPS`. moto's CloudFormation engine is
replaced (cfn/), each resource type has a provider that acts through its service's API
(providers/), and moto's service APIs are corrected where AWS differs (moto_fixes/).
"""

from __future__ import annotations

from localaws.install import install
from localaws.server import LocalAws, reset

__all__ = ["LocalAws", "install", "reset"]
