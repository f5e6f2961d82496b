"""Running work over a template's resources in dependency order: one at a time in instant mode,
independent ones at the same time in paced mode, as AWS provisions them."""

from __future__ import annotations

from typing import Any

from localaws import pacing
from localaws.cfn.intrinsics import Evaluator, dependencies, dependency_order


def in_dependency_order(
    template: dict,
    ev: Evaluator,
    work: Any,
    stop: Any = lambda: False,
) -> str | None:
    """Run `work(logical_id)` for every resource once its dependencies are done; returns the
    first resource whose work raised (nothing new starts after it)."""
    order = dependency_order(template, ev.included)
    failed = in_waves(order, dependencies(template, ev.included), work, stop)
    return failed[0] if failed else None


def in_waves(
    order: list[str],
    needs: dict[str, set[str]],
    work: Any,
    stop: Any = lambda: False,
    keep_going: bool = False,
) -> list[str]:
    """Run `work(name)` for each name of `order` once the names it `needs` are done: one at a
    time in instant mode, independent ones at the same time in paced mode, as AWS provisions
    them (so a paced operation takes its critical path). Returns the names whose work raised.
    Unless `keep_going` (deletes go on past a failure, as AWS's do), nothing new starts after a
    failure or once `stop()`, and what is under way finishes first."""
    if not pacing.paced():
        failed = []
        for name in order:
            if stop():
                raise pacing.Cancelled
            try:
                work(name)
            except Exception:  # noqa: BLE001 - its event says why
                failed.append(name)
                if not keep_going:
                    break
        return failed
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    pending, done, failed = list(order), set(), []
    abandoned = halted = False
    running: dict = {}
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="local-aws-resource") as pool:
        while True:
            halted = halted or (not failed and stop())
            blocked = halted or (failed and not keep_going)
            ready = [] if blocked else [n for n in pending if needs.get(n, set()) <= done]
            for name in ready:
                pending.remove(name)
                running[pool.submit(pacing.inherit(work), name)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                error = future.exception()
                if error is None:
                    done.add(name)
                    continue
                abandoned = abandoned or isinstance(error, pacing.Abandoned)
                failed.append(name)
                if keep_going:
                    done.add(name)  # what depended on it may still go
    if abandoned:
        raise pacing.Abandoned
    if not failed and halted:
        raise pacing.Cancelled
    return failed
