"""The reports a reviewer reads: every stage's smoke report opens with the
summary block and a results table, shows no log (stderr) and no reprs; a real
browser (headless Chromium) loads each report and the index without a broken
image or a JavaScript error."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_hw, run_smoke, smoke_outputs

STAGES = ("writer_id", "signatures", "char_ocr", "single_image_vae", "writer_casework", "lr_validation")
REPRS = ("PosixPath(", "<Figure size", "object at 0x", "<matplotlib.", "<keras.")


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _first_block(soup):
    main = soup.find("main") or soup.body
    return next(el for el in main.children if getattr(el, "name", None) not in (None, "style", "script"))


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_report_structure(hw, stage):
    run, _ = run_smoke(hw, stage)
    soup = _soup(run / "report.html")
    first = _first_block(soup)
    assert first.name == "section" and first.get("id") == "hw-summary", f"{stage}: summary block not first"
    summary = first.get_text(" ", strip=True)
    assert "ok" in summary and run.name in summary and "smoke" in summary  # status, run id, label
    assert first.find("table", class_="hw-results") is not None, f"{stage}: no results table"
    for fact in ("data", "parameters", "code", "host", "versions", "warnings"):
        assert first.find("dt", string=fact) is not None, f"{stage}: summary lacks {fact}"
    assert "not recorded" not in first.find("dt", string="data").find_next("dd").get_text(), f"{stage}: data"
    stderr = soup.select('[data-mime-type="application/vnd.jupyter.stderr"]')
    assert not stderr, f"{stage}: {len(stderr)} stderr outputs: {stderr[0].get_text()[:200]}"
    text = soup.get_text(" ")
    for bad in REPRS:
        assert bad not in text, f"{stage}: report shows {bad!r}"
    outputs = [el.get_text() for el in soup.select('[data-mime-type="text/plain"]')]
    assert not [o for o in outputs if re.match(r"\s*[\[{]'", o)], f"{stage}: a raw dict or list in the report"
    assert not re.search(r"^epoch \d+/\d+", text, re.M), f"{stage}: per-epoch lines in the report"
    assert (run / "run.log").is_file() and (run / "run.log").stat().st_size > 0


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's chromium with apt when it can)")
    return exe


PROBE = """<script>
window.__hwErrors = [];
window.addEventListener("error", function (e) {
  window.__hwErrors.push(e.message || ("failed to load " + (e.target && (e.target.src || e.target.href))));
}, true);
window.addEventListener("load", function () {
  var broken = Array.prototype.filter.call(document.images, function (i) { return !i.complete || i.naturalWidth === 0; });
  document.documentElement.setAttribute("data-hw-broken-images", String(broken.length));
  document.documentElement.setAttribute("data-hw-images", String(document.images.length));
  document.documentElement.setAttribute("data-hw-errors", window.__hwErrors.join(" | "));
  document.documentElement.setAttribute("data-hw-summary", document.getElementById("hw-summary") ? "yes" : "no");
  var f = document.getElementById("f-stage");
  if (f && f.options.length > 1) {  // the index: filter by the first stage, then sort by duration
    f.value = f.options[1].value;
    f.dispatchEvent(new Event("change"));
    var rows = Array.prototype.slice.call(document.querySelectorAll("#runs tbody tr[data-stage]"));
    var shown = rows.filter(function (r) { return r.style.display !== "none"; });
    var only = shown.every(function (r) { return r.dataset.stage === f.value; });
    document.documentElement.setAttribute("data-hw-filtered", shown.length + ":" + only);
    f.value = "";
    f.dispatchEvent(new Event("change"));
    document.querySelector("#runs thead th:nth-child(7)").click();
    var d = Array.prototype.map.call(document.querySelectorAll("#runs tbody tr[data-stage]"),
                                     function (r) { return parseFloat(r.cells[6].dataset.v); });
    var sorted = d.every(function (v, k) { return k === 0 || d[k - 1] <= v; });
    document.documentElement.setAttribute("data-hw-sorted", sorted ? "yes" : "no");
  }
  document.documentElement.setAttribute("data-hw-loaded", "yes");
});
</script>"""


def _load_in_chromium(exe: str, page: Path, tmp_path: Path) -> dict:
    """Load a copy of ``page`` (with an error/image probe first in its head)
    in headless Chromium; returns what the probe saw."""
    html = page.read_text(encoding="utf-8")
    i = html.find("<head>")
    probed = html[: i + 6] + PROBE + html[i + 6 :] if i >= 0 else PROBE + html
    copy = page.parent / f".probe-{page.name}"
    copy.write_text(probed, encoding="utf-8")
    try:
        proc = subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium-profile'}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                copy.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        copy.unlink()
    dom = proc.stdout
    attrs = dict(re.findall(r'data-hw-([a-z-]+)="([^"]*)"', dom[: dom.find(">", dom.find("<html")) + 1]))
    assert attrs.get("loaded") == "yes", f"{page}: chromium did not load the page: {proc.stderr[-1500:]}"
    return attrs


@pytest.mark.slow
def test_reports_and_index_in_a_real_browser(hw, tmp_path):
    exe = _chromium()
    for stage in STAGES:
        run, _ = run_smoke(hw, stage)
        seen = _load_in_chromium(exe, run / "report.html", tmp_path)
        assert seen["summary"] == "yes", f"{stage}: no summary block in the browser"
        assert int(seen["images"]) > 0, f"{stage}: a report without figures"
        assert seen["broken-images"] == "0", f"{stage}: {seen['broken-images']} broken images"
        assert seen["errors"] == "", f"{stage}: JavaScript errors: {seen['errors']}"
    proc = run_hw("index", outputs=smoke_outputs(), check=True)
    index = Path(proc.stdout.strip().splitlines()[-1])
    seen = _load_in_chromium(exe, index, tmp_path)
    assert seen["errors"] == "", f"index: JavaScript errors: {seen['errors']}"
    assert seen["broken-images"] == "0"
    first_stage = sorted(STAGES)[0]
    assert seen["filtered"] == "1:true", f"index: filtering by {first_stage} showed {seen['filtered']}"
    assert seen["sorted"] == "yes", "index: sorting by duration did not sort"
    soup = _soup(index)
    rows = soup.select("#runs tbody tr[data-stage]")
    assert {r["data-stage"] for r in rows} >= set(STAGES)
    assert all(r.select_one("td.data").get_text(strip=True) for r in rows), "a run without its data"
    assert soup.select_one("#f-stage") is not None and soup.select_one("#f-status") is not None
