"""JUnit XML output: one test case per rule, so CI dashboards show which rules a dataset breaks.

A rule's test case fails when it has findings at or above the fail level; its failure text
lists them as `path:line: severity rule message`. Findings below the fail level go to the
test case's system-out, so they are visible without failing the build.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from curate.display import shown
from curate.io.location import location
from curate.model import Finding, Severity
from curate.report import Report

# characters XML 1.0 cannot carry at all, even escaped
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_LISTED = 1000  # per rule: a million findings would make an unreadable (and huge) report


def _clean(text: str) -> str:
    """Escaped (its user-derived parts are masked already), then what XML 1.0 cannot carry replaced."""
    return _INVALID_XML.sub("\ufffd", shown(text, None, masked=False))


def _line(f: Finding) -> str:
    where = location(f.path, f.line)
    field = f" [{f.field}]" if f.field else ""
    return _clean(f"{where}: {f.severity} {f.rule} {shown(f.message, None)}{field}")


def _listing(findings: list[Finding]) -> str:
    lines = [_line(f) for f in findings[:MAX_LISTED]]
    if len(findings) > MAX_LISTED:
        lines.append(f"... {len(findings) - MAX_LISTED:,} more (use --format json for all)")
    return "\n".join(lines)


def to_junit(report: Report, fail_on: str = "error") -> ET.Element:
    level = None if fail_on == "never" else Severity.parse(fail_on)
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_rule[f.rule].append(f)
    rules = sorted(report.rules, key=lambda r: r.id)
    known = {r.id for r in rules}
    suite = ET.Element("testsuite", name="curate")
    if report.notices:  # run notices: about the run, never a failing test case
        props = ET.SubElement(suite, "properties")
        for note in report.notices:
            ET.SubElement(props, "property", name="curate.notice", value=_clean(shown(note, None)))
    failures = 0
    for rule in rules:
        case = ET.SubElement(suite, "testcase", classname=f"curate.{rule.check.split('.', 1)[0]}", name=rule.id)
        found = by_rule.get(rule.id, [])
        failing = [f for f in found if level is not None and f.severity >= level]
        passing = [f for f in found if level is None or f.severity < level]
        if failing:
            failures += 1
            fail = ET.SubElement(
                case,
                "failure",
                message=_clean(f"{len(failing):,} finding(s) of {rule.id}: {shown(rule.description, None)}"),
                type=str(max(f.severity for f in failing)),
            )
            fail.text = _listing(failing)
        if passing:
            ET.SubElement(case, "system-out").text = _listing(passing)
    orphans = [f for f in report.findings if f.rule not in known]
    if orphans:  # findings of a rule missing from the rule list (should not happen): never lose them
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="curate", name="other-rules")
        ET.SubElement(case, "failure", message="findings of unlisted rules", type="error").text = _listing(orphans)
    errors = len(report.errors)
    if report.notices:
        ET.SubElement(suite, "system-out").text = "\n".join(f"note: {_clean(shown(n, None))}" for n in report.notices)
    if report.errors:
        ET.SubElement(suite, "system-err").text = "\n".join(_clean(shown(e, None)) for e in report.errors)
    tests = len(suite.findall("testcase"))
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    root = ET.Element("testsuites", name="curate", tests=str(tests), failures=str(failures), errors=str(errors))
    root.append(suite)
    return root


def render_junit(report: Report, fail_on: str = "error") -> bytes:
    root = to_junit(report, fail_on)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
