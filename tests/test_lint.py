"""`lint`: cfn-lint in-process over the built templates; zero findings is the bar."""

from __future__ import annotations

import json
import os
import re

import pytest

from mirror_infra.cli import main


def test_both_environments_lint_clean(project, capsys):
    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    assert "staging: 6 templates, 0 cfn-lint findings" in out
    assert "production: 6 templates, 0 cfn-lint findings" in out


def test_a_finding_fails_lint_with_the_file_and_rule(project, capsys, monkeypatch):
    from templates_src import dynamodb, root

    def bad_tables(cfg):
        from troposphere import Output, Ref

        template = dynamodb.template(cfg)
        template.add_output(Output("Dangling", Value=Ref("NoSuchTable")))
        return template

    monkeypatch.setitem(root.SERVICES, "Dynamodb", bad_tables)
    assert main(["lint", "--env", "staging"]) == 1
    captured = capsys.readouterr()
    assert "dynamodb-" in captured.out and "E6101" in captured.out and "NoSuchTable" in captured.out
    assert re.match(r"error: cfn-lint reported \d+ finding\(s\); the bar is zero\n$", captured.err)


def test_lint_results_are_cached_by_content(project):
    assert main(["lint", "--env", "staging"]) == 0
    cache = json.loads((project / "build" / ".lint-cache.json").read_text())
    assert len(cache) == 6


def test_lint_cache_forgets_templates_no_longer_built(project):
    assert main(["lint", "--env", "staging"]) == 0
    params = project / "params" / "staging.yaml"
    params.write_text(
        params.read_text().replace("log_retention_days: 30", "log_retention_days: 60")
    )
    assert main(["lint", "--env", "staging"]) == 0
    cache = json.loads((project / "build" / ".lint-cache.json").read_text())
    assert len(cache) == 6  # the old monitoring and root templates' entries are gone


def test_a_read_only_build_folder_lints_without_its_cache_in_one_warning(
    project, capsys, monkeypatch
):
    """The templates are built, the cache is still to be written, and build/ is read-only
    (chmod does not stop root, who runs the tests: the write itself is refused)."""
    import errno
    from pathlib import Path

    assert main(["build", "--env", "staging"]) == 0
    capsys.readouterr()
    build = str(project / "build")
    original = Path.write_text

    def write_text(self, *args, **kwargs):
        if os.path.abspath(self).startswith(build + os.sep):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    assert main(["lint", "--env", "staging"]) == 0
    captured = capsys.readouterr()
    assert "staging: 6 templates, 0 cfn-lint findings" in captured.out
    assert captured.err == (
        "warning: build/.lint-cache.json: lint results not cached (Permission denied); the "
        "next lint checks every template again — make build writable to keep them\n"
    )
    assert not (project / "build" / ".lint-cache.json").exists()


def test_a_process_that_loaded_the_rules_freezes_its_heap_at_exit_once(monkeypatch):
    import gc

    from mirror_infra import lint

    registered = []
    monkeypatch.setattr(lint.atexit, "register", registered.append)
    monkeypatch.setattr(lint, "_FREEZING_AT_EXIT", False)
    lint._freeze_at_exit()
    lint._freeze_at_exit()
    assert registered == [gc.freeze]


def test_a_cold_lint_with_a_bad_params_file_fails_in_one_line(project, capfd):
    # the forked process that reads params and builds meets the error first; it says nothing
    params = project / "params" / "staging.yaml"
    params.write_text(params.read_text().replace("log_retention_days: 30", "log_retention_days: x"))
    assert main(["lint"]) == 1
    err = capfd.readouterr().err
    assert re.fullmatch(r"error: params/staging\.yaml: log_retention_days: [^\n]*\n", err), err


def _dies_at_once(envs, stale, writer):
    os._exit(9)


def _dies_after_the_regions(envs, stale, writer):
    from mirror_infra import lint

    writer.send({env: lint.lint_regions(env) for env in envs})
    os._exit(9)


@pytest.mark.parametrize("work", [_dies_at_once, _dies_after_the_regions])
def test_a_cold_lint_whose_forked_process_dies_does_its_work_itself(
    project, capfd, monkeypatch, work
):
    from mirror_infra import lint

    monkeypatch.setattr(lint, "_work_ahead", work)
    monkeypatch.setattr(lint, "can_fork", lambda: True)  # this child dies at once: no lock waits
    # ...but a forked lint pool in a process with other threads (a pytest-xdist worker) can
    # hang on a lock for ever: the templates are linted here, only the helper is forked
    monkeypatch.setattr(lint.os, "cpu_count", lambda: 1)
    assert main(["lint"]) == 0
    captured = capfd.readouterr()
    assert "staging: 6 templates, 0 cfn-lint findings" in captured.out
    assert "production: 6 templates, 0 cfn-lint findings" in captured.out
    assert captured.err == ""


def test_a_process_with_other_threads_lints_without_forking(project, capfd, monkeypatch):
    """fork() in a process with other threads can leave the child waiting for ever on a lock
    one of them held (Python's os.fork documentation): such a process lints in-process, with
    the same findings. Seen as a test run hanging on a forked child, with the local AWS serving
    from a thread of the test process."""
    import multiprocessing
    import threading

    from mirror_infra import lint

    def no_fork(method=None):
        raise AssertionError(f"forked ({method}) while another thread runs")

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    monkeypatch.setattr(lint.multiprocessing, "get_context", no_fork)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert main(["lint"]) == 0
    finally:
        release.set()
        other.join()
    out = capfd.readouterr().out
    assert "staging: 6 templates, 0 cfn-lint findings" in out
    assert "production: 6 templates, 0 cfn-lint findings" in out


def test_a_thread_threading_does_not_know_also_keeps_lint_from_forking():
    """pytest-xdist's workers run execnet threads started with `_thread.start_new_thread`, which
    `threading.active_count()` does not count; a lint pool forked there hung the suite. The
    kernel's count of the process's threads is what decides."""
    import _thread
    import threading

    from mirror_infra import lint

    started, release = threading.Event(), threading.Event()

    def hidden():
        started.set()
        release.wait()

    before = threading.active_count()
    _thread.start_new_thread(hidden, ())
    started.wait()
    try:
        assert threading.active_count() == before  # threading does not see it
        assert not lint.can_fork()
    finally:
        release.set()
