"""`--junit FILE`: results as JUnit XML in the Jenkins dialect that GitHub Actions' and GitLab's
test reporters read — <testsuites><testsuite name tests failures errors skipped time>
<testcase name classname time> with <failure message type> and <system-out> for the evidence.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from mirror_infra.errors import ConfigError


@dataclass(frozen=True)
class Case:
    name: str
    ok: bool
    output: str = ""  # the evidence, shown as the case's system-out
    failure: str = ""  # one line: why it failed
    seconds: float = 0.0
    skipped: str = ""  # one line: why it did not run (then `ok` is not looked at)
    classname: str = ""  # this case's own, instead of the document's


def document(suite: str, classname: str, cases: list[Case], seconds: float = 0.0) -> bytes:
    """The report as bytes (UTF-8 XML)."""
    failures = sum(not c.ok and not c.skipped for c in cases)
    skipped = sum(bool(c.skipped) for c in cases)
    root = ET.Element(
        "testsuites", name=suite, tests=str(len(cases)), failures=str(failures), errors="0"
    )
    element = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{seconds:.3f}",
    )
    for case in cases:
        node = ET.SubElement(
            element,
            "testcase",
            name=case.name,
            classname=case.classname or classname,
            time=f"{case.seconds:.3f}",
        )
        if case.skipped:
            ET.SubElement(node, "skipped", message=case.skipped)
        elif not case.ok:
            failed = ET.SubElement(node, "failure", message=case.failure or "failed", type="failed")
            failed.text = case.failure or "failed"
        if case.output:
            ET.SubElement(node, "system-out").text = case.output
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write(path: Path, suite: str, classname: str, cases: list[Case], seconds: float = 0.0) -> None:
    """Write the report; a path that cannot be written is a one-line ConfigError."""
    try:
        path.write_bytes(document(suite, classname, cases, seconds))
    except OSError as exc:
        raise ConfigError(f"--junit {path}: cannot be written ({exc.strerror or exc})") from None


def check_writable(path: Path | None) -> None:
    """--junit names a file this user can write in an existing directory, checked before any
    AWS call: a report that cannot be written must not cost a run (smoke writes test data)."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir():
        raise ConfigError(f"--junit {path}: expected a file in an existing directory")
    # creating a file takes writing and entering the folder; an existing one is overwritten
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(
            f"--junit {path}: not writable (permission denied); name a file in a folder you "
            "can write to"
        )
