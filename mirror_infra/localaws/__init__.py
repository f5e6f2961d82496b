"""The local AWS: moto's server on loopback with the gaps of SPEC §4 closed, so that this
environment deploys, updates, drifts and is deleted as on AWS.

Public API:
- `install()`: apply every correction to moto in this process (idempotent);
- `LocalAws(port=0).start()` / `.url` / `.reset()` / `.stop()`: a server in a thread;
- `python -m mirror_infra.localaws serve --port N`: a server in the foreground;
- `mirror_infra.localaws.daemon`: the background server `mirror-infra local` manages.

Where each gap of SPEC §4 is closed is listed in `gaps.GAPS`. moto's CloudFormation engine is
replaced (cfn/engine.py), resource types are created through their service APIs
(resources/), and moto's service behaviour is corrected where AWS differs (services/).
"""

from __future__ import annotations

from mirror_infra.localaws.install import install
from mirror_infra.localaws.server import LocalAws, reset

__all__ = ["LocalAws", "install", "reset"]
