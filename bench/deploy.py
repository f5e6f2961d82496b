"""Deploy figures on the local AWS: create, no-op plan, update and destroy of the whole
environment with mirror-infra, and the same steps with `aws cloudformation deploy` (awscli, in
its own venv) on the same root template and the same server, measured in the same run.

awscli gets the nested templates already uploaded (it cannot build or upload them itself), so
the comparison favours it: mirror-infra also builds, uploads, classifies every change, checks
the nonce and applies the data-safety settings. As in the main job, `lint` runs before create
and update (its cold cost is in the build figures); apply then finds its results cached.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

AWSCLI = Path(
    os.environ.get("BENCH_AWSCLI", Path(__file__).resolve().parents[1] / ".venv-bench/bin/aws")
)
STACK = "mirror-dissonance-staging"


COUNTING = Path(__file__).with_name("counting.py")  # mirror-infra with its AWS calls counted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, repo: Path, url: str, workdir: Path) -> None:
        self.repo = repo
        self.url = url
        self.workdir = workdir
        self.calls_file = workdir / "calls.jsonl"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(repo),
            "MIRROR_INFRA_LOCAL_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def setup(self, *argv: str) -> None:
        """An unmeasured mirror-infra command (build, lint, local start/stop)."""
        subprocess.run(
            [sys.executable, "-m", "mirror_infra.cli", *argv],
            cwd=self.workdir,
            env=self.env,
            check=argv[:2] != ("local", "stop"),
            capture_output=True,
        )

    def ours(self, *argv: str) -> tuple[float, int]:
        """Wall time and AWS calls of one mirror-infra command."""
        self.calls_file.unlink(missing_ok=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(COUNTING), str(self.calls_file), *argv, "--local"],
            cwd=self.workdir,
            env=self.env,
            check=argv[0] != "plan",
            capture_output=True,
        )
        took = time.perf_counter() - started
        counts = json.loads(self.calls_file.read_text().splitlines()[-1])
        return took, sum(counts.values())

    def awscli(self, *argv: str, ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
        started = time.perf_counter()
        done = subprocess.run(
            [str(AWSCLI), *argv, "--endpoint-url", self.url, "--region", "us-east-1", "--debug"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - started
        if done.returncode not in ok_codes:
            raise RuntimeError(f"aws {' '.join(argv)} failed: {done.stderr[-2000:]}")
        return took, done.stderr.count("Making request for OperationModel")

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"))


def _retention(workdir: Path, days: int) -> None:
    params = workdir / "params" / "staging.yaml"
    text = params.read_text()
    import re

    params.write_text(re.sub(r"log_retention_days: \d+", f"log_retention_days: {days}", text))


def figures(repo: Path) -> dict[str, object]:
    if not AWSCLI.exists():
        raise SystemExit(f"{AWSCLI} missing: run 'make bench' (it installs awscli in .venv-bench)")
    workdir = Path(tempfile.mkdtemp(prefix="mirror-bench-deploy-"))
    shutil.copytree(repo / "params", workdir / "params")
    shutil.copy(repo / ".cfnlintrc.yaml", workdir / ".cfnlintrc.yaml")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    run = Run(repo, url, workdir)
    run.setup("local", "start", "--port", str(port))
    try:
        run.setup("build")
        ours: dict[str, dict[str, float]] = {}
        # warm-up, not measured: the server imports each service's backend on first use, and
        # whichever tool ran first would pay for it
        run.setup("lint", "--env", "staging")
        run.ours("bootstrap")
        run.ours("apply", "--yes")
        run.ours("destroy", "--yes", "--delete-nonce")
        run.reset()
        run.ours("bootstrap")
        # the main job lints first (its cold cost is in the build figures); apply reuses that
        run.setup("lint", "--env", "staging")
        for step, argv in (
            ("create", ("apply", "--yes")),
            ("noop_plan", ("plan",)),
        ):
            took, calls = run.ours(*argv)
            ours[step] = {"seconds": round(took, 3), "aws_calls": calls}
        _retention(workdir, 60)
        run.setup("lint", "--env", "staging")
        took, calls = run.ours("apply", "--yes")
        ours["update"] = {"seconds": round(took, 3), "aws_calls": calls}
        took, calls = run.ours("destroy", "--yes", "--delete-nonce")
        ours["destroy"] = {"seconds": round(took, 3), "aws_calls": calls}

        # awscli on the same server, the same root template, nested templates pre-uploaded
        run.reset()
        _retention(workdir, 30)
        run.setup("build", "--force")
        run.ours("bootstrap")
        run.ours("plan")  # uploads the nested templates (and discards its change set)
        bucket = "mirror-infra-artifacts-123456789012-us-east-1"
        deploy = [
            "cloudformation",
            "deploy",
            "--template-file",
            "build/staging/root.json",
            "--stack-name",
            STACK,
            "--capabilities",
            "CAPABILITY_NAMED_IAM",
            "CAPABILITY_AUTO_EXPAND",
            "--no-fail-on-empty-changeset",
            "--parameter-overrides",
            f"ArtifactsBucket={bucket}",
            "ArtifactsPrefix=templates/staging/",
        ]
        theirs: dict[str, dict[str, float]] = {}
        took, calls = run.awscli(*deploy)
        theirs["create"] = {"seconds": round(took, 3), "aws_calls": calls}
        took, calls = run.awscli(*deploy)
        theirs["noop_plan"] = {"seconds": round(took, 3), "aws_calls": calls}
        _retention(workdir, 60)
        run.setup("build")
        run.ours("plan")  # upload the changed nested template for awscli
        took, calls = run.awscli(*deploy)
        theirs["update"] = {"seconds": round(took, 3), "aws_calls": calls}
        t1, c1 = run.awscli("cloudformation", "delete-stack", "--stack-name", STACK)
        t2, c2 = run.awscli(
            "cloudformation", "wait", "stack-delete-complete", "--stack-name", STACK
        )
        theirs["destroy"] = {"seconds": round(t1 + t2, 3), "aws_calls": c1 + c2}
        ratio = {step: round(ours[step]["seconds"] / theirs[step]["seconds"], 2) for step in ours}
        return {"mirror_infra": ours, "awscli": theirs, "ratio_mirror_infra_to_awscli": ratio}
    finally:
        run.setup("local", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


def median_of(runs: list[dict]) -> dict[str, object]:
    """Per tool and step, the median seconds (and calls) of several runs of `figures`."""
    import statistics

    result: dict[str, object] = {}
    for tool in ("mirror_infra", "awscli"):
        result[tool] = {
            step: {
                "seconds": round(statistics.median(r[tool][step]["seconds"] for r in runs), 3),
                "aws_calls": runs[0][tool][step]["aws_calls"],
            }
            for step in runs[0][tool]
        }
    result["ratio_mirror_infra_to_awscli"] = {
        step: round(result["mirror_infra"][step]["seconds"] / result["awscli"][step]["seconds"], 2)
        for step in result["mirror_infra"]
    }
    result["runs"] = len(runs)
    return result
