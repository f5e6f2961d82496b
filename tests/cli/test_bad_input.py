# ruff: noqa: E501 - the case table reads best one case a line
"""Bad input, whatever the file system, the network or the user throws at the CLI: one line
that names the file, flag or value and what was expected, exit 1, no traceback, and the local
AWS exactly as it was (stacks, items, objects, nonce versions)."""

from __future__ import annotations

import errno
import shutil
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror_infra.cli import main

ROOT = "mirror-dissonance-staging"
TABLES = [f"{ROOT}-{t}" for t in ("fp-events", "consent", "block-counter")]
BUCKET = "mirror-staging-baselines-123456789012-us-east-1"


def _state(aws) -> dict:
    cfn, ddb, s3, ssm = (aws.client(s) for s in ("cloudformation", "dynamodb", "s3", "ssm"))
    stacks = sorted(
        (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime", "")))
        for s in cfn.describe_stacks()["Stacks"]
    )
    change_sets = cfn.list_change_sets(StackName=ROOT)["Summaries"]
    items = {t: ddb.scan(TableName=t)["Items"] for t in TABLES}
    objects = [
        (v["Key"], v["VersionId"])
        for v in s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
    ]
    nonces = [
        (p["Name"], p["Version"])
        for p in ssm.get_parameters_by_path(Path="/guardian/staging")["Parameters"]
    ]
    return {
        "stacks": stacks,
        "change_sets": len(change_sets),
        "items": items,
        "objects": objects,
        "nonces": nonces,
    }


@pytest.fixture(scope="module")
def staging(local_aws_server, tmp_path_factory, lint_seed):
    """Staging deployed once for the module's cases, with an item and an object. Each case
    asserts that it left the environment exactly as it found it, so they can share one."""
    from localaws import reset
    from tests.conftest import REPO, seed_lint_cache
    from tests.localaws_fixtures import LOCAL_URL_VAR

    root = tmp_path_factory.mktemp("bad-input")
    shutil.copytree(REPO / "params", root / "params")
    shutil.copy(REPO / ".cfnlintrc.yaml", root / ".cfnlintrc.yaml")
    seed_lint_cache(root, lint_seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv(LOCAL_URL_VAR, local_aws_server.url)
        reset()
        for argv in (["bootstrap"], ["apply", "--yes"]):
            assert main([*argv, "--local"]) == 0, argv
    local_aws_server.client("dynamodb").put_item(
        TableName=TABLES[0], Item={"pk": {"S": "rule#r1"}, "sk": {"S": "event#1"}}
    )
    local_aws_server.client("s3").put_object(Bucket=BUCKET, Key="rules/r1.json", Body=b"{}")
    return local_aws_server


@pytest.fixture
def environment(staging, linted_project, monkeypatch, capsys):
    """The module's staging as the case finds it, targeted by --local from a scratch project
    (with build/, as a project that has deployed has)."""
    from tests.localaws_fixtures import LOCAL_URL_VAR

    monkeypatch.setenv(LOCAL_URL_VAR, staging.url)
    capsys.readouterr()
    state = _state(staging)
    assert ROOT in {name for name, *_ in state["stacks"]} and state["items"][TABLES[0]], state
    return state


def _write(relative: str, data: bytes | str) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def setup(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)

    return setup


def _edit_params(old: str, new: str) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def setup(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        params = project / "params" / "staging.yaml"
        text = params.read_text()
        assert old in text
        params.write_text(text.replace(old, new))

    return setup


def _unreadable_params(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the tests run as root, whom chmod does not stop: refuse the read itself
    original = Path.read_text
    target = (project / "params" / "staging.yaml").resolve()

    def read_text(self, *args, **kwargs):
        if self.resolve() == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)


def _build_is_a_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(project / "build" / "staging", ignore_errors=True)
    (project / "build" / "staging").write_text("not a directory")


def _broken_templates(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(project / "build" / "staging", ignore_errors=True)
    import templates_src

    monkeypatch.setitem(sys.modules, "templates_src.root", None)  # import raises ImportError
    monkeypatch.delattr(templates_src, "root")


def _template_value(name: str, value: object) -> Callable[[Path, pytest.MonkeyPatch], None]:
    """templates_src/kms.py with one constant set to a value troposphere refuses."""

    def setup(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:

        import templates_src.kms

        shutil.rmtree(project / "build" / "staging", ignore_errors=True)
        monkeypatch.setattr(templates_src.kms, name, value)

    return setup


def _bogus_key_usage(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """templates_src/kms.py's key made with KeyUsage="BOGUS" (troposphere checks it at once)."""
    import functools
    import shutil
    import types

    import templates_src.kms

    shutil.rmtree(project / "build" / "staging", ignore_errors=True)
    real = templates_src.kms.tkms
    bogus = types.SimpleNamespace(
        Key=functools.partial(real.Key, KeyUsage="BOGUS"), Alias=real.Alias
    )
    monkeypatch.setattr(templates_src.kms, "tkms", bogus)


def _line_of(relative: str, text: str) -> int:
    """The line of `relative` (from the repository) holding `text`: where an error must point."""
    from tests.conftest import REPO

    lines = (REPO / relative).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


KEY_LINE = _line_of("templates_src/kms.py", "tkms.Key(")


def _unreadable_params_dir(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as for a file, chmod does not stop root: the folder's listing and lookups are refused
    import os

    folder = os.path.abspath(project / "params")

    def refuse(original):
        def call(self, *args, **kwargs):
            path = os.path.abspath(self)
            if path == folder or os.path.dirname(path) == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return original(self, *args, **kwargs)

        return call

    for name in ("stat", "iterdir"):
        monkeypatch.setattr(Path, name, refuse(getattr(Path, name)))


def _env(name: str, value: str) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def setup(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(name, value)

    return setup


def _nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pass


# (id, setup, argv without --local, the error's expected text)
CASES = [
    ("unknown flag", _nothing, ["plan", "--bogus"], "unrecognized arguments: --bogus"),
    ("misspelt option", _nothing, ["plan", "--evn", "staging"], "unrecognized arguments: --evn"),
    ("no command", _nothing, [], "the following arguments are required: COMMAND"),
    ("unreadable params", _unreadable_params, ["plan"], "params/staging.yaml: not readable (permission denied)"),
    ("non-UTF-8 params", _write("params/staging.yaml", b"region: \xff\xfe\n"), ["plan"], "params/staging.yaml: not UTF-8 text (byte 0xff at offset 8)"),
    ("deeply nested params", _write("params/staging.yaml", "a: " + "[" * 20000), ["plan"], "params/staging.yaml: nested too deeply to be a params file"),
    ("a key given twice", _edit_params("log_retention_days: 30", "log_retention_days: 30\nlog_retention_days: 1"), ["plan"], "params/staging.yaml: line 8: log_retention_days: given twice (first on line 7); keep one"),
    ("email with a newline", _edit_params('alert_email: ""', 'alert_email: "ops@example.com\\n"'), ["plan"], "alert_email: expected an email address like ops@example.com (or empty), not 'ops@example.com\\n'"),
    ("tag value AWS rejects", _edit_params("Project: phase-mirror", "Project: phase*mirror"), ["plan"], "tags: expected tag values of at most 256 letters, digits, spaces and _.:/=+-@, not 'phase*mirror' (tag Project)"),
    ("saved plan null", _write("p.json", "null"), ["apply", "--plan", "p.json"], "--plan p.json: not a plan saved by 'mirror-infra plan --out' (a JSON NoneType, not an object)"),
    ("saved plan a string", _write("p.json", '"plan"'), ["apply", "--plan", "p.json"], "--plan p.json: not a plan saved by 'mirror-infra plan --out' (a JSON str, not an object)"),
    ("saved plan a number", _write("p.json", "3"), ["apply", "--plan", "p.json"], "--plan p.json: not a plan saved by 'mirror-infra plan --out' (a JSON int, not an object)"),
    ("saved plan a directory", _write("p.json/x", ""), ["apply", "--plan", "p.json"], "--plan p.json: is a directory, expected a saved plan"),
    ("build/<env> a file", _build_is_a_file, ["plan"], "build/staging is a file; remove it so that build can write the templates"),
    ("templates_src broken", _broken_templates, ["plan"], "templates_src cannot be imported"),
    ("troposphere refuses a value", _template_value("PENDING_WINDOW_DAYS", 3), ["plan"], f"templates_src/kms.py line {KEY_LINE}: troposphere refuses Key.PendingWindowInDays (ValueError: Integer must be between 7 and 30); correct it there and run the command again"),
    ("troposphere refuses KeyUsage", _bogus_key_usage, ["plan"], f'templates_src/kms.py line {KEY_LINE}: troposphere refuses Key.KeyUsage (ValueError: KeyUsage must be one of: "ENCRYPT_DECRYPT, SIGN_VERIFY"); correct it there and run the command again'),
    ("troposphere refuses it in build", _bogus_key_usage, ["build"], f"templates_src/kms.py line {KEY_LINE}: troposphere refuses Key.KeyUsage"),
    ("unreadable params folder", _unreadable_params_dir, ["plan"], "params: not readable (permission denied); let the user running mirror-infra read and enter (r and x) it"),
    ("unreadable params folder, build --all", _unreadable_params_dir, ["build", "--all"], "params: not readable (permission denied); let the user running mirror-infra read and enter (r and x) it"),
    ("local URL not a URL", _env("MIRROR_INFRA_LOCAL_URL", "not a url"), ["plan"], "MIRROR_INFRA_LOCAL_URL='not a url': expected a URL like http://127.0.0.1:4590"),
    ("port too high", _nothing, ["local", "start", "--port", "99999"], "argument --port: expected a port number from 1 to 65535, not '99999'"),
    ("port negative", _nothing, ["local", "start", "--port=-1"], "argument --port: expected a port number from 1 to 65535, not '-1'"),
    ("--out to a missing directory", _nothing, ["plan", "--out", "nowhere/p.json"], "--out nowhere/p.json: no directory nowhere; create it or name another file"),
    ("--skip-resource alone", _nothing, ["apply", "--yes", "--skip-resource", "Iam"], "--skip-resource goes with --continue-rollback"),
    ("--allow-data-loss empty", _nothing, ["plan", "--allow-data-loss", ""], "--allow-data-loss '': no such resource in the staging templates"),
    ("--allow-data-loss unknown", _nothing, ["apply", "--yes", "--allow-data-loss", "Nope"], "--allow-data-loss 'Nope': no such resource in the staging templates"),
    ("drift --timeout nan", _nothing, ["drift", "--timeout", "nan"], "--timeout nan: expected a number of seconds above 0"),
    ("outputs --json --format env", _nothing, ["outputs", "--json", "--format", "env"], "--json is --format json; it does not go with --format env"),
    ("outputs --format yaml", _nothing, ["outputs", "--format", "yaml"], "argument --format: invalid choice: 'yaml' (choose from 'table', 'json', 'env')"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "argv", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_line_exit_1_and_touches_nothing(
    environment, staging, project, monkeypatch, capsys, setup, argv, expected
):
    setup(project, monkeypatch)
    code = main([*argv, "--local"] if argv and argv[0] != "local" else argv)
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert "Traceback" not in err
    assert "threw exception" not in err  # troposphere's own word on a refused value
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last, err
    monkeypatch.undo()  # the state is read with the real file system and environment
    assert _state(staging) == environment


def test_a_plan_that_cannot_be_written_leaves_no_change_set_or_stack(cli, local_aws, monkeypatch):
    """A full disk cannot be foreseen: the change set (and the empty stack of a first create)
    is deleted before the one-line error."""
    assert cli("bootstrap").code == 0

    def disk_full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("mirror_infra.deploy.plan.Plan.save", disk_full)
    result = cli("plan", "--out", "p.json")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "error: --out p.json: could not write the plan (No space left on device); its change "
        "set was deleted, nothing was applied"
    )
    names = [s["StackName"] for s in local_aws.client("cloudformation").describe_stacks()["Stacks"]]
    assert ROOT not in names


def test_an_endpoint_that_never_answers_is_one_line_naming_it(project, monkeypatch, capsys):
    """Connections are accepted and never answered: the probe gives up and names the
    endpoint, which was printed before the first call."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("MIRROR_INFRA_LOCAL_URL", url)
    monkeypatch.setattr("mirror_infra.aws.target.PROBE_READ_SECONDS", 0.5)
    try:
        code = main(["status", "--local"])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == f"{ROOT} on local AWS {url} (us-east-1)"
    assert lines[-1] == (
        f"error: local AWS {url} (us-east-1) did not answer within 1s; check the endpoint "
        "(AWS_ENDPOINT_URL, MIRROR_INFRA_LOCAL_URL) and the network"
    )


def test_an_unforeseen_error_is_one_line_that_says_how_to_see_and_report_it(deployed, monkeypatch):
    """Not from botocore, not one of the tool's own errors: one line, exit 1; the advice it
    prints (MIRROR_INFRA_DEBUG=1) shows the traceback."""
    from mirror_infra.deploy import nonce

    def broken(ssm, names):
        raise RuntimeError("the versions could not\nbe listed")

    monkeypatch.setattr(nonce, "versions", broken)
    result = deployed("status")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert result.err.strip().splitlines()[-1] == (
        "error: unexpected RuntimeError: the versions could not be listed; mirror-infra did not "
        "foresee this: run again with MIRROR_INFRA_DEBUG=1 for the traceback, and report it "
        "with that output"
    )
    monkeypatch.setenv("MIRROR_INFRA_DEBUG", "1")
    with pytest.raises(RuntimeError, match="the versions could not"):
        main(["status", "--local"])


def test_parallel_rotations_end_in_one_line_naming_the_version(deployed, local_aws, monkeypatch):
    """Another rotate-nonce creates v2 between this one's listing and its write."""
    from mirror_infra.deploy import nonce

    listed = nonce.versions

    def raced(ssm, names):
        found = listed(ssm, names)
        local_aws.client("ssm").put_parameter(
            Name="/guardian/staging/redaction_nonce_v2", Value="0" * 64, Type="SecureString"
        )
        return found

    monkeypatch.setattr(nonce, "versions", raced)
    result = deployed("rotate-nonce", "--yes")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "error: /guardian/staging/redaction_nonce_v2 appeared while rotating (another "
        "rotate-nonce got there first); nothing was overwritten: run rotate-nonce again if "
        "another version is still wanted"
    )
