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
import re
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
        took, record = self.ours_recorded(*argv)
        return took, sum(record["counts"].values())

    def ours_recorded(self, *argv: str) -> tuple[float, dict]:
        """Wall time of one mirror-infra command and its calls (bench/counting.py's record)."""
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
        record = json.loads(self.calls_file.read_text().splitlines()[-1])
        return took, {**record, "ended": time.time()}

    def awscli(self, *argv: str, ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
        took, calls, _ = self.awscli_recorded(*argv, ok_codes=ok_codes)
        return took, calls

    def awscli_recorded(
        self, *argv: str, ok_codes: tuple[int, ...] = (0,)
    ) -> tuple[float, int, float]:
        """Wall time, AWS calls and the time.time() it exited."""
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
        return took, done.stderr.count("Making request for OperationModel"), time.time()

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"))


def _retention(workdir: Path, days: int) -> None:
    params = workdir / "params" / "staging.yaml"
    text = params.read_text()
    params.write_text(re.sub(r"log_retention_days: \d+", f"log_retention_days: {days}", text))


BUCKET = "mirror-infra-artifacts-123456789012-us-east-1"
STEPS = ("create", "noop_plan", "update", "destroy")


def deploy_argv() -> list[str]:
    """awscli's command for create, no-op and update: the same root template and parameters."""
    return [
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
        f"ArtifactsBucket={BUCKET}",
        "ArtifactsPrefix=templates/staging/",
    ]


class Server:
    """One local AWS for a whole series of pairs, and a scratch copy of the project."""

    def __init__(self, repo: Path) -> None:
        if not AWSCLI.exists():
            raise SystemExit(f"{AWSCLI} missing: run 'make bench' (it installs awscli)")
        self.workdir = Path(tempfile.mkdtemp(prefix="mirror-bench-deploy-"))
        shutil.copytree(repo / "params", self.workdir / "params")
        shutil.copy(repo / ".cfnlintrc.yaml", self.workdir / ".cfnlintrc.yaml")
        port = _free_port()
        self.run = Run(repo, f"http://127.0.0.1:{port}", self.workdir)
        self.run.setup("local", "start", "--port", str(port))

    def close(self) -> None:
        self.run.setup("local", "stop")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def fresh(self, retention: int = 30) -> None:
        """An empty account with the artifacts bucket and the nested templates uploaded (what
        awscli cannot do itself), the lint cache warm (the main job lints first)."""
        self.run.reset()
        _retention(self.workdir, retention)
        self.run.setup("build")
        self.run.setup("lint", "--env", "staging")
        self.run.ours("bootstrap")
        self.run.ours("plan")  # uploads the nested templates; its change set is discarded

    def settings(self, **values: object) -> None:
        request = urllib.request.Request(
            f"{self.run.url}/localaws/settings",
            data=json.dumps(values).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()


def _ours_sequence(server: Server, samples: dict[str, list[tuple[float, int]]]) -> None:
    run = server.run
    server.fresh(30)
    samples["create"].append(run.ours("apply", "--yes"))
    samples["noop_plan"].append(run.ours("plan"))
    _retention(server.workdir, 60)
    run.setup("lint", "--env", "staging")
    samples["update"].append(run.ours("apply", "--yes"))
    samples["destroy"].append(run.ours("destroy", "--yes", "--delete-nonce"))


def _awscli_sequence(server: Server, samples: dict[str, list[tuple[float, int]]]) -> None:
    run = server.run
    server.fresh(30)
    samples["create"].append(run.awscli(*deploy_argv()))
    samples["noop_plan"].append(run.awscli(*deploy_argv()))
    _retention(server.workdir, 60)
    run.setup("build")
    run.ours("plan")  # uploads the changed nested template for awscli
    samples["update"].append(run.awscli(*deploy_argv()))
    t1, c1 = run.awscli("cloudformation", "delete-stack", "--stack-name", STACK)
    t2, c2 = run.awscli("cloudformation", "wait", "stack-delete-complete", "--stack-name", STACK)
    samples["destroy"].append((t1 + t2, c1 + c2))


def figures(repo: Path, pairs: int) -> list:
    """Instant local AWS: each pair is a whole create/no-op/update/destroy by each tool."""
    from bench.protocol import Figure, interleave, show

    server = Server(repo)
    ours: dict[str, list[tuple[float, int]]] = {step: [] for step in STEPS}
    theirs: dict[str, list[tuple[float, int]]] = {step: [] for step in STEPS}
    try:
        # warm-up, not measured: the server imports each service's backend on first use
        _ours_sequence(server, {step: [] for step in STEPS})
        interleave(
            pairs,
            lambda: _ours_sequence(server, ours),
            lambda: _awscli_sequence(server, theirs),
        )
    finally:
        server.close()
    aws = show(["aws", *deploy_argv(), "--endpoint-url", "<local AWS>"])
    baselines = {
        "create": aws,
        "noop_plan": aws,
        "update": aws,
        "destroy": "aws cloudformation delete-stack --stack-name mirror-dissonance-staging && "
        "aws cloudformation wait stack-delete-complete --stack-name mirror-dissonance-staging",
    }
    commands = {
        "create": "mirror-infra apply --yes --local",
        "noop_plan": "mirror-infra plan --local",
        "update": "mirror-infra apply --yes --local  # log retention 30 -> 60",
        "destroy": "mirror-infra destroy --yes --delete-nonce --local",
    }
    result = []
    for step in STEPS:
        figure = Figure(f"instant local AWS: {step}", commands[step], baselines[step])
        figure.ours = [took for took, _ in ours[step]]
        figure.baseline = [took for took, _ in theirs[step]]
        figure.note = f"AWS calls: mirror-infra {ours[step][0][1]}, awscli {theirs[step][0][1]}"
        result.append(figure)
    return result
