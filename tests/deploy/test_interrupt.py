"""Ctrl-C while following a stack operation: cancel (rolls back) or detach, and say which."""

from __future__ import annotations

import types

import pytest

from mirror_infra.commands import common
from mirror_infra.deploy import flow
from mirror_infra.errors import Aborted


class FakeExecution:
    def __init__(self, interrupts: int) -> None:
        self.interrupts = interrupts
        self.cancelled = False

    def follow(self, printer):
        if self.interrupts:
            self.interrupts -= 1
            raise KeyboardInterrupt
        return "finished"

    def cancel(self) -> str:
        self.cancelled = True
        return "cancel requested: the update rolls back"


DEP = types.SimpleNamespace(
    stack_name="mirror-dissonance-staging", cfg=types.SimpleNamespace(name="staging")
)


def test_without_a_terminal_ctrl_c_detaches_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(common.sys.stdin, "isatty", lambda: False, raising=False)
    execution = FakeExecution(interrupts=1)
    with pytest.raises(Aborted, match="detached from the running operation; it was not cancelled"):
        flow.follow(DEP, execution, common.hooks())
    assert not execution.cancelled
    assert "goes on in AWS" in capsys.readouterr().err


def test_cancel_is_requested_then_the_rollback_is_followed(monkeypatch, capsys):
    execution = FakeExecution(interrupts=1)
    hooks = common.hooks(on_interrupt=lambda: flow.OnInterrupt.CANCEL)
    assert flow.follow(DEP, execution, hooks) == "finished"
    assert execution.cancelled
    assert "cancel requested: the update rolls back" in capsys.readouterr().err
