"""Terminal output: results on stdout, progress and errors on stderr (so --json stays clean)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["ask", "confirm", "err", "machine", "out", "print_json", "styled", "table"]

# off a terminal (CI logs, pipes) rich would assume 80 columns and fold every table
_WIDTH = None if sys.stdout.isatty() else 160
# no markup: what we print is full of AWS names and reasons with brackets ("[ConsentTable]",
# "[/guardian/...]") that rich would swallow or choke on; colour comes from `styled` / Text
out = Console(highlight=False, soft_wrap=True, width=_WIDTH, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_WIDTH, markup=False)


class _MachineOutput:
    """What a --json run has written, or holds, on stdout (cli.main opens and closes it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.on = False  # a --json run: nothing is asked, stdout carries only JSON
        self.held: list[Any] | None = None  # a one-document command's document, until it ends
        self.outcome = False  # an event stream's final `outcome` object was written


machine = _MachineOutput()


def print_json(data: Any) -> None:
    """A command's one JSON document; held until the command ends when cli.main holds it."""
    if machine.held is not None:
        machine.held.append(data)
        return
    write_document(data)


def write_document(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_line(data: dict) -> None:
    """One JSON object on one line of stdout (an event stream for machines)."""
    sys.stdout.write(json.dumps(data, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
    if data.get("type") == "outcome":
        machine.outcome = True


def styled(text: str, style: str) -> Text:
    """A table cell or line shown in `style`; the text itself is never read as markup."""
    return Text(text, style=style)


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    """Cells are plain text (AWS reasons and names contain brackets rich would read as markup);
    pass `styled(...)` for a coloured cell."""
    result = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(
            *(c if isinstance(c, Text) else Text("" if c is None else str(c)) for c in row)
        )
    return result


def ask(prompt: str) -> str | None:
    """The answer typed on the terminal, the prompt on stderr (stdout carries results only);
    None when there is no terminal to ask on, or under --json, which asks nothing."""
    if machine.on or not sys.stdin.isatty():
        return None
    sys.stderr.write(prompt)
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip() if answer else None  # "" is the end of input


def confirm(question: str, expected: str | None = None) -> bool:
    """Ask on the terminal; False when there is no terminal to ask on (or under --json)."""
    prompt = f"{question} " + (f"Type '{expected}' to confirm: " if expected else "[y/N] ")
    answer = ask(prompt)
    if answer is None:
        return False
    return answer == expected if expected else answer.lower() in ("y", "yes")
