"""Every behaviour the README leaves to documentation, inference or a real account is listed
in proof/settled.py, and the summary says of each whether this run settled it."""

from __future__ import annotations

import re

import pytest

from proof import settled
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
MARKS = re.compile(r"\*(?:documentation only[^*]*|to be settled on a real account|undocumented)\*")


def test_every_mark_of_the_readme_is_listed():
    listed = " ".join(item.readme for item in settled.OPEN)
    marks = MARKS.findall(README)
    assert len(marks) >= 4
    assert [m for m in marks if m not in listed] == []


@pytest.mark.parametrize("item", settled.OPEN, ids=lambda item: item.readme[:30])
def test_each_listed_behaviour_is_quoted_from_the_readme(item):
    assert item.readme in README


REVERT = settled.OPEN[3]


@pytest.mark.parametrize(
    ("results", "on_aws", "expected"),
    [
        (dict.fromkeys(REVERT.settled_by, True), True, "settled: "),
        (dict.fromkeys(REVERT.settled_by, True), False, "not settled: this run's calls went to "),
        (
            {**dict.fromkeys(REVERT.settled_by, True), "drift (exit 0)": False},
            True,
            "not settled: ",
        ),
        ({}, True, "not settled: "),
    ],
)
def test_a_behaviour_is_settled_only_by_its_steps_passing_on_aws(results, on_aws, expected):
    verdict = settled.verdict(REVERT, results, on_aws, "http://127.0.0.1:1")
    assert verdict.startswith(expected)
