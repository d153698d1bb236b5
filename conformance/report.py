"""The verdict for people and machines: a terminal table, JUnit XML, and self-contained HTML and Markdown reports."""
from __future__ import annotations

import html
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree as ET

from conformance.outcome import ERROR, FAILED, PASSED, SKIPPED, Outcome, RunResult

AREA_TITLES = {
    "generated": "Generated (Schemathesis)",
    "errors": "Errors",
    "auth": "Auth",
    "pagination": "Pagination",
    "idempotency": "Idempotency",
    "rate_limits": "Rate limits",
    "lifecycle": "Lifecycle",
    "availability": "Availability + iCal",
}


def _failures(result: RunResult) -> list[Outcome]:
    return [o for a in result.areas for o in a.outcomes if o.status in (FAILED, ERROR)]


def _skips(result: RunResult) -> list[Outcome]:
    return [o for a in result.areas for o in a.outcomes if o.status == SKIPPED]


def verdict_line(result: RunResult) -> str:
    if result.aborted:
        return f"NO VERDICT — {result.aborted}"
    failures = _failures(result)
    if failures:
        return f"FAIL — {len(failures)} rule(s) broken at {result.base_url}"
    return f"PASS — {result.base_url} obeys every rule the suite could check ({len(_skips(result))} skipped)"


def print_summary(result: RunResult, stream: TextIO, report_dir: Path | None) -> None:
    """The final table per area, every skip reason, and every failure with its evidence."""
    w = stream.write
    w("\n")
    if result.areas:
        w(f"{'Area':<26}{'Passed':>8}{'Failed':>8}{'Skipped':>9}{'Requests':>10}{'Time':>9}\n")
        for area in result.areas:
            failed = area.count(FAILED) + area.count(ERROR)
            w(f"{AREA_TITLES.get(area.area, area.area):<26}{area.count(PASSED):>8}{failed:>8}{area.count(SKIPPED):>9}"
              f"{area.requests:>10}{area.duration_s:>8.1f}s\n")
        w(f"{'Total':<26}{sum(a.count(PASSED) for a in result.areas):>8}{len(_failures(result)):>8}"
          f"{len(_skips(result)):>9}{result.requests:>10}{result.duration_s:>8.1f}s\n")
    for note in result.notes:
        w(f"  · {note}\n")
    skips = _skips(result)
    if skips:
        w("\nSkipped:\n")
        for outcome in skips:
            w(f"  ↷ [{outcome.area}] {outcome.name}\n      {outcome.reason}\n")
    failures = _failures(result)
    if failures:
        w("\nFailures:\n")
        for outcome in failures:
            w(f"  ✗ [{outcome.area}] {outcome.name}\n      rule: {outcome.rule}\n")
            if outcome.status == ERROR or not outcome.evidence:
                w(f"      {'error' if outcome.status == ERROR else 'broke'}: {outcome.reason}\n")
            for evidence in outcome.evidence[:5]:
                if evidence.rule != outcome.rule:
                    w(f"      check: {evidence.rule}\n")
                w(_indent(f"broke: {evidence.message}", 6))
                if evidence.request:
                    w(_indent(f"request:\n{evidence.request}", 6))
                if evidence.response:
                    w(_indent(f"response:\n{evidence.response}", 6))
                w(f"      request_id: {evidence.request_id or '(none)'}\n")
            if len(outcome.evidence) > 5:
                w(f"      … and {len(outcome.evidence) - 5} more (see the report)\n")
    w(f"\n{verdict_line(result)}\n")
    if report_dir is not None:
        w(f"Reports: {report_dir / 'report.html'}, {report_dir / 'report.md'}, {report_dir / 'junit.xml'}\n")


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line + "\n" for line in text.rstrip("\n").splitlines())


def _evidence_text(outcome: Outcome) -> str:
    parts = [f"rule: {outcome.rule}"]
    if outcome.reason or not outcome.evidence:
        parts.append(f"{'error' if outcome.status == ERROR else 'broke'}: {outcome.reason}")
    for evidence in outcome.evidence:
        if (evidence.rule, evidence.message) != (outcome.rule, outcome.reason):
            parts += [f"\ncheck: {evidence.rule}", f"broke: {evidence.message}"]
        if evidence.request:
            parts.append(f"request:\n{evidence.request}")
        if evidence.response:
            parts.append(f"response:\n{evidence.response}")
        parts.append(f"request_id: {evidence.request_id or '(none)'}")
    return "\n".join(parts)


def write_junit(result: RunResult, path: Path) -> None:
    """JUnit XML: one testsuite per area, one testcase per scenario (or generated operation)."""
    root = ET.Element("testsuites", name="litehq-conformance", tests=str(sum(len(a.outcomes) for a in result.areas)),
                      failures=str(len(_failures(result))), time=f"{result.duration_s:.3f}")
    for area in result.areas:
        suite = ET.SubElement(root, "testsuite", name=area.area, tests=str(len(area.outcomes)),
                              failures=str(area.count(FAILED)), errors=str(area.count(ERROR)), skipped=str(area.count(SKIPPED)),
                              time=f"{area.duration_s:.3f}")
        for outcome in area.outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"conformance.{area.area}", name=outcome.name, time=f"{outcome.duration_s:.3f}")
            if outcome.status == FAILED:
                ET.SubElement(case, "failure", message=outcome.reason[:500] or outcome.rule).text = _evidence_text(outcome)
            elif outcome.status == ERROR:
                ET.SubElement(case, "error", message=outcome.reason[:500]).text = _evidence_text(outcome)
            elif outcome.status == SKIPPED:
                ET.SubElement(case, "skipped", message=outcome.reason)
    if result.aborted:
        suite = ET.SubElement(root, "testsuite", name="preflight", tests="1", errors="1")
        case = ET.SubElement(suite, "testcase", classname="conformance.preflight", name="deployment_answers")
        ET.SubElement(case, "error", message=result.aborted[:500]).text = result.aborted
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1f24;padding:0 1em}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:.3em .7em;text-align:right}
td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37}.fail{color:#cf222e}.skip{color:#9a6700}
.verdict{font-size:1.2em;font-weight:600;padding:.6em 1em;border-radius:6px}
.verdict.pass{background:#dafbe1}.verdict.fail{background:#ffebe9}
details{margin:.4em 0;border:1px solid #d0d7de;border-radius:6px;padding:.4em .8em}
summary{cursor:pointer}pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;font-size:12.5px}
.rule{color:#57606a}ul.notes li{color:#57606a}
"""


def write_html(result: RunResult, path: Path) -> None:
    """A self-contained page: verdict, per-area table, then every test with its rule, skip reason or evidence."""
    e = html.escape
    ok = result.passed
    out = [f"<!doctype html><html lang=en><meta charset=utf-8><title>LiteHQ conformance — {e(result.base_url)}</title>",
           f"<style>{_CSS}</style><h1>LiteHQ Calendar API conformance</h1>",
           f"<p>Deployment <code>{e(result.base_url)}</code> · profile <b>{e(result.profile)}</b> · started {e(result.started_at)} · "
           f"{result.duration_s:.1f}s · {result.requests} requests</p>",
           f"<p class='verdict {'pass' if ok else 'fail'}'>{e(verdict_line(result))}</p>"]
    if result.notes:
        out.append("<ul class=notes>" + "".join(f"<li>{e(n)}</li>" for n in result.notes) + "</ul>")
    out.append("<table><tr><th>Area</th><th>Passed</th><th>Failed</th><th>Skipped</th><th>Requests</th><th>Time</th></tr>")
    for area in result.areas:
        failed = area.count(FAILED) + area.count(ERROR)
        out.append(f"<tr><td><a href='#{area.area}'>{e(AREA_TITLES.get(area.area, area.area))}</a></td>"
                   f"<td class=pass>{area.count(PASSED)}</td><td class={'fail' if failed else 'pass'}>{failed}</td>"
                   f"<td class=skip>{area.count(SKIPPED)}</td><td>{area.requests}</td><td>{area.duration_s:.1f}s</td></tr>")
    out.append("</table>")
    for area in result.areas:
        out.append(f"<h2 id='{area.area}'>{e(AREA_TITLES.get(area.area, area.area))}</h2>")
        for note in area.notes:
            out.append(f"<p class=rule><code>{e(note)}</code></p>")
        for outcome in area.outcomes:
            css = {PASSED: "pass", FAILED: "fail", ERROR: "fail", SKIPPED: "skip"}[outcome.status]
            mark = {PASSED: "✓", FAILED: "✗", ERROR: "✗", SKIPPED: "↷"}[outcome.status]
            head = f"<span class={css}>{mark} {e(outcome.status)}</span> <b>{e(outcome.name)}</b> — <span class=rule>{e(outcome.rule)}</span>"
            if outcome.status == PASSED:
                out.append(f"<div>{head}</div>")
            elif outcome.status == SKIPPED:
                out.append(f"<div>{head}<br><small class=skip>skipped: {e(outcome.reason)}</small></div>")
            else:
                out.append(f"<details open><summary>{head}</summary><pre>{e(_evidence_text(outcome))}</pre></details>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_markdown(result: RunResult, path: Path) -> None:
    """The same verdict as Markdown, e.g. for a CI job summary."""
    lines = ["# LiteHQ Calendar API conformance", "", f"**{verdict_line(result)}**", "",
             f"Deployment `{result.base_url}` · profile **{result.profile}** · {result.duration_s:.1f}s · {result.requests} requests", ""]
    lines += [f"- {n}" for n in result.notes] + [""]
    lines += ["| Area | Passed | Failed | Skipped | Time |", "|---|---:|---:|---:|---:|"]
    for area in result.areas:
        failed = area.count(FAILED) + area.count(ERROR)
        lines.append(f"| {AREA_TITLES.get(area.area, area.area)} | {area.count(PASSED)} | {failed} | {area.count(SKIPPED)} | {area.duration_s:.1f}s |")
    failures = _failures(result)
    if failures:
        lines += ["", "## Failures"]
        for outcome in failures:
            lines += ["", f"### `{outcome.area}` · {outcome.name}", "", "```", _evidence_text(outcome), "```"]
    skips = _skips(result)
    if skips:
        lines += ["", "## Skipped", ""] + [f"- `{o.area}` · {o.name} — {o.reason}" for o in skips]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_reports(result: RunResult, report_dir: Path) -> None:
    write_junit(result, report_dir / "junit.xml")
    write_html(result, report_dir / "report.html")
    write_markdown(result, report_dir / "report.md")
