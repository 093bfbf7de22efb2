"""tinlap report: the static site's contents, its behaviour in headless Chromium, its memory."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import SEED_CLEAN, SEED_SCRAPE, run, write_jsonl

from tinlap.apps import report as report_module
from tinlap.apps.cli import main
from tinlap.apps.explain import explain, to_json
from tinlap.apps.report import (
    MARGIN_FIELDS,
    PAGE_SIZE,
    NearThresholds,
    score_margins,
    write_report,
)
from tinlap.apps.retrieve import DedupOutput, OutputError
from tinlap.config import DedupConfig
from tinlap.core.rules import CopyRule
from tinlap.io.schema import CLUSTER_SCHEMA

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sample deduplicated and reported (no ../shared needed)."""
    out = tmp_path_factory.mktemp("sample") / "out"
    run([SAMPLES], out)
    write_report(DedupOutput.load(out), out / "report")
    return out


def test_index_totals_stages_and_plots(sample_report: Path) -> None:
    summary = json.loads((sample_report / "summary.json").read_text())
    index = (sample_report / "report" / "index.html").read_text()
    assert f"<b>{summary['documents_read']:,}</b>" in index
    assert f"<b>{summary['clusters']:,}</b>" in index
    for stage in ("read", "clean", "exact", "near", "contained"):
        assert f"<th>{stage}</th>" in index
    assert index.count("<svg") == 3  # Jaccard, containment, cluster sizes
    assert index.count('class="threshold"') == 2
    assert "≥ 0.5: copy" in index and "≥ 0.4: copy" in index


def test_every_cluster_listed_and_every_id_findable(sample_report: Path) -> None:
    rows = pq.read_table(sample_report / "clusters.parquet").to_pylist()
    report = sample_report / "report"
    listed = []
    for page in sorted((report / "data" / "pages").glob("*.js")):
        payload = re.fullmatch(r"TINLAP\.page\((\d+),(.*)\);\n", page.read_text(), re.S)
        assert payload is not None
        listed += json.loads(payload.group(2))
    kept = [r["id"] for r in rows if r["kept"]]
    assert [entry[1] for entry in listed] == kept
    assert [entry[0] for entry in listed] == list(range(1, len(kept) + 1))
    assert sum(entry[2] for entry in listed) == len(rows)
    in_shards = set()
    for shard in (report / "data" / "ids").glob("*.js"):
        for call in re.findall(r"TINLAP\.ids\((.*?)\);\n", shard.read_text()):
            in_shards |= {doc_id for doc_id, _ in json.loads(call)}
    assert in_shards == {r["id"] for r in rows}
    assert len(list((report / "clusters").glob("*.html"))) == len(kept)


def test_self_contained(sample_report: Path) -> None:
    """Nothing is fetched from the network: no absolute URL in any src, href or url()."""
    for path in (sample_report / "report").rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), path
            assert "@import" not in text, path


def test_cluster_page_marks_copies(sample_report: Path) -> None:
    rows = pq.read_table(sample_report / "clusters.parquet").to_pylist()
    removed = next(r for r in rows if not r["kept"] and r["reason"] == "near")
    number = [r["id"] for r in rows if r["kept"]].index(removed["cluster_id"]) + 1
    page = (sample_report / "report" / "clusters" / f"{number:07d}.html").read_text()
    assert removed["id"] in page and removed["cluster_id"] in page
    assert page.count("<mark>") > 2
    assert "<del>" in page  # the samples' reposts carry other sites' chrome


def test_cli_report_and_refusals(sample_report: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "small-report"
    args = ["report", str(sample_report), "--to", str(target), "-q"]
    result = runner.invoke(main, [*args, "--max-details", "3"])
    assert result.exit_code == 0, result.output
    assert len(list((target / "clusters").glob("*.html"))) == 3
    again = runner.invoke(main, args)  # an earlier report is replaced
    assert again.exit_code == 0, again.output
    assert len(list((target / "clusters").glob("*.html"))) > 3
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("mine")
    refused = runner.invoke(
        main, ["report", str(sample_report), "--to", str(tmp_path / "precious")]
    )
    assert refused.exit_code != 0 and "not a tinlap report" in refused.output
    assert (tmp_path / "precious" / "notes.txt").read_text() == "mine"
    with pytest.raises(OutputError):
        DedupOutput.load(tmp_path)


# ------------------------------------------------------------------- generated news-like text

_WORDS = (
    "nhà máy điện gió ven biển tỉnh phía nam vừa hoàn thành giai đoạn đầu công trình theo kế "
    "hoạch của chủ đầu tư người dân địa phương cho rằng dự án mang lại việc làm thu nhập ổn định "
    "cơ quan chức năng đã kiểm tra an toàn môi trường trước khi vận hành chính thức"
)
SYLLABLES = _WORDS.split()


def sentence(rng: random.Random, words: int = 15) -> str:
    text = " ".join(rng.choice(SYLLABLES) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def story(seed: int, sentences: int = 12) -> list[str]:
    rng = random.Random(seed)
    return [sentence(rng) for _ in range(sentences)]


def with_word(text: str, position: int, word: str) -> tuple[str, str]:
    """``text`` with its ``position``-th word replaced by ``word``; and the word replaced."""
    words = text.split()
    old, words[position] = words[position], word
    return " ".join(words), old


# ------------------------------------------------------------------ decisions near a threshold

RULE = CopyRule()  # jaccard 0.5, containment 0.4, certain 0.7, sentence coverage 0.6


def test_score_margins_name_the_threshold_each_removal_turned_on() -> None:
    jaccard = np.array([0.52, 0.30, 0.55, 0.90])
    containment = np.array([0.60, 0.71, 0.30, 0.95])
    margin, which, checked = score_margins(RULE, jaccard, containment)
    names = [MARGIN_FIELDS[w] for w in which]
    # A copy by either score: the larger excess holds it; the other one does not matter.
    assert margin[0] == pytest.approx(0.20) and names[0] == "containment" and checked[0]
    assert margin[2] == pytest.approx(0.05) and names[2] == "jaccard" and checked[2]
    # Decided on the scores (≥ 0.7): how far above the sentence check's bound.
    assert margin[1] == pytest.approx(0.01) and names[1] == "certain_containment"
    assert margin[3] == pytest.approx(0.25) and names[3] == "certain_containment"
    assert not checked[1] and not checked[3]
    off = CopyRule(certain_containment=0.0)  # the check turned off: nothing turns on it
    margin, which, checked = score_margins(off, jaccard, containment)
    assert not checked.any() and margin[3] == pytest.approx(0.55)


def offer(near: NearThresholds, name: str, jaccard: float, containment: float) -> None:
    margin, which, checked = score_margins(RULE, np.array([jaccard]), np.array([containment]))
    near.offer(
        name, "kept-" + name, 1, "near", jaccard, containment, margin[0], which[0], checked[0]
    )


def test_near_thresholds_add_the_sentence_coverage_margin() -> None:
    near = NearThresholds(RULE, shown=2)
    for name, j, c in (("a", 0.52, 0.60), ("b", 0.30, 0.71), ("c", 0.55, 0.30), ("d", 0.9, 0.95)):
        offer(near, name, j, c)
    assert near.n_checked == 2 and [d.removed for d in near.to_check()] == ["a", "c"]
    chosen = near.select({"a": 0.605, "c": 0.9})
    assert [d.removed for d in chosen] == ["a", "b"]
    assert chosen[0].margin == pytest.approx(0.005) and chosen[0].coverage == 0.605
    assert MARGIN_FIELDS[chosen[0].which] == "min_sentence_coverage"
    assert chosen[0].describe(RULE) == "sentence coverage 0.6050, 0.0050 above 0.6"
    assert chosen[1].describe(RULE) == "certain containment 0.7100, 0.0100 above 0.7"
    assert {"a", "kept-a", "b", "kept-b"} <= near.wanted


def test_a_checked_removal_far_from_the_scores_enters_by_its_coverage() -> None:
    """The score heap alone would miss it: its scores are far, its coverage is not."""
    near = NearThresholds(RULE, shown=1)
    offer(near, "b", 0.30, 0.71)  # score margin 0.01
    offer(near, "a", 0.52, 0.60)  # score margin 0.20, checked
    assert [d.removed for d in near.select({"a": 0.601})] == ["a"]
    capped = NearThresholds(RULE, shown=1, rechecks=0)  # no coverage recomputed: scores only
    offer(capped, "b", 0.30, 0.71)
    offer(capped, "a", 0.52, 0.60)
    assert capped.to_check() == [] and [d.removed for d in capped.select({})] == ["b"]


def test_near_thresholds_equal_a_full_sort() -> None:
    """Streaming selection in bounded heaps = sorting every removal by its nearest margin."""
    rng = random.Random(3)
    near = NearThresholds(RULE, shown=25, rechecks=1000)
    everything = {}
    coverage = {}
    for i in range(600):
        j = rng.uniform(0.05, 1.0)
        c = rng.uniform(0.4, 1.0) if j < 0.5 else rng.uniform(0.0, 1.0)
        name = f"d{i:03d}"
        offer(near, name, j, c)
        margin, _, checked = score_margins(RULE, np.array([j]), np.array([c]))
        if checked[0]:
            coverage[name] = rng.uniform(0.6, 1.0)
            margin[0] = min(margin[0], coverage[name] - 0.6)
        everything[name] = margin[0]
    expected = sorted(everything, key=lambda name: (everything[name], name))[:25]
    assert [d.removed for d in near.select(coverage)] == expected


# ------------------------------------------------------------------------ plurals in the report


def test_one_cluster_is_one_cluster(tmp_path: Path) -> None:
    """Counts of 1 are singular, larger ones have thousands separators: report and CLI."""
    text = " ".join(story(1))
    docs = [{"id": "a", "text": text}, {"id": "b", "text": text}]
    inputs = write_jsonl(tmp_path / "in.jsonl", docs)
    run([inputs], tmp_path / "out")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "Report of 1 cluster (1 with a page of their own; 0 removals" in result.output
    index = (tmp_path / "out" / "report" / "index.html").read_text()
    assert "<b>2</b><span>documents read</span>" in index
    assert "<b>1</b><span>cluster</span>" in index
    assert "1 document</td>" in index and "1 documents" not in index
    assert "1 clusters" not in index and "1 records" not in index
    assert "No removal other than exact copies." in index
    page = (tmp_path / "out" / "report" / "clusters" / "0000001.html").read_text()
    assert "2 documents: this one kept (B below), 1 removed" in page


# ------------------------------------------------------------------ the alignment on a cluster


def test_cluster_page_shows_the_sentence_alignment(tmp_path: Path) -> None:
    """A repost with four lightly edited sentences and one of its own, in the grey zone: the
    page lists its sentences as the check aligned them, with explain's statuses, the edits
    visible word by word, in the text's own spelling."""
    original = story(7, 10)
    copy = original[:2]
    edits = []
    for i in range(2, 6):
        edited, old = with_word(original[i], 7, "khoảng")
        copy.append(edited)
        edits.append(old)
    own = sentence(random.Random(99))
    copy += [own, original[6]]
    docs = [{"id": "repost", "text": " ".join(copy)}, {"id": "story", "text": " ".join(original)}]
    out = tmp_path / "out"
    run([write_jsonl(tmp_path / "in.jsonl", docs)], out)
    output = DedupOutput.load(out)
    write_report(output, out / "report")
    page = (out / "report" / "clusters" / "0000001.html").read_text()

    found = {d.id: d for d in output.find(["repost", "story"])}
    expected = to_json(explain(found["repost"], found["story"], output.config))["alignment"]
    assert expected["decisive"] and expected["copy"] == "a"  # grey zone: the check decided
    statuses = re.findall(r'<li class="s (\w+)">', page)
    assert statuses == [m["status"] for m in expected["sentences"]]
    assert statuses == ["exact"] * 2 + ["edited"] * 4 + ["unmatched", "exact"]
    assert "Sentence check (the decision rested on it; a copy needs 60%)" in page
    for old in edits:  # B's word struck, A's word inserted
        assert f"<del>{old}</del> <ins>khoảng</ins>" in page
    unmatched = re.search(r'<li class="s unmatched">.*?</span> (.*?)</li>', page)
    assert unmatched is not None and unmatched.group(1) == own  # as written, not as a key
    # A is the removed copy, B the kept original, as explain REMOVED KEPT names them.
    assert re.search(r"A · removed copy</span> <code>repost</code>", page)
    assert re.search(r"B · kept original</span> <code>story</code>", page)


def test_near_threshold_table_and_pages(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([write_jsonl(tmp_path / "in.jsonl", browse_corpus())], out)
    write_report(DedupOutput.load(out), out / "report", near=5)
    index = (out / "report" / "index.html").read_text()
    section = index[index.index('id="near"') : index.index('id="clusters"')]
    ranks = re.findall(r'<a href="near/(\d{4})\.html">', section)
    assert ranks == ["0001", "0002", "0003", "0004", "0005"]
    margins = [float(m) for m in re.findall(r'<td class="num">([+-]\d\.\d{4})</td>', section)]
    assert margins == sorted(margins) and len(margins) == 5
    rows = [r for r in pq.read_table(out / "clusters.parquet").to_pylist() if not r["kept"]]
    rows = [r for r in rows if r["reason"] != "exact"]
    margin, _, _ = score_margins(
        RULE, np.array([r["jaccard"] for r in rows]), np.array([r["containment"] for r in rows])
    )
    assert margins[0] <= round(float(margin.min()), 4)  # none nearer left out
    first = (out / "report" / "near" / "0001.html").read_text()
    assert "Near a threshold: 1 of 5" in first and 'class="sentences"' in first


# ------------------------------------------------------------------------- headless Chromium


def _chrome():  # type: ignore[no-untyped-def]
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None or not CHROMEDRIVER.exists():
        pytest.skip("chromium / chromium-driver not installed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp(prefix='tinlap-chromium-')}",
        "--window-size=1400,1600",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(service=service, options=options)


def browse_corpus() -> list[dict[str, str]]:
    """25 generated stories: mirrored (exact), edited (near), cut short (contained), edited and
    cut short (a cluster of 3), or alone; 20 clusters of every reason and two sizes."""
    docs = []
    for i in range(25):
        text = story(100 + i)
        docs.append({"id": f"s{i:02d}", "text": " ".join(text)})
        kind = i % 5
        if kind == 0:
            docs.append({"id": f"s{i:02d}-mirror", "text": " ".join(text)})
        if kind in (1, 3):
            edited = list(text)
            edited[3], _ = with_word(edited[3], 4, "khoảng")
            edited[8], _ = with_word(edited[8], 9, "chừng")
            docs.append({"id": f"s{i:02d}-edit", "text": " ".join(edited)})
        if kind in (2, 3):
            docs.append({"id": f"s{i:02d}-part", "text": " ".join(text[: 4 + i % 3])})
    return docs


def test_report_sorts_and_filters_in_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sort and filter of the cluster list, checked against clusters.parquet, page by
    page (4 clusters a page, so views span pages), and kept in the URL."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    monkeypatch.setattr(report_module, "VIEW_SIZE", 4)
    out = tmp_path / "out"
    run([write_jsonl(tmp_path / "in.jsonl", browse_corpus())], out)
    write_report(DedupOutput.load(out), out / "report")
    clusters: dict[str, dict[str, Any]] = {}
    for r in pq.read_table(out / "clusters.parquet").to_pylist():
        c = clusters.setdefault(r["cluster_id"], {"size": 0, "reasons": set(), "j": 2, "c": 2})
        c["size"] += 1
        if not r["kept"]:
            c["reasons"].add(r["reason"])
            c["j"], c["c"] = min(c["j"], r["jaccard"]), min(c["c"], r["containment"])
    facts = {n: c for n, c in enumerate(clusters.values(), 1)}
    assert len(facts) == 20 and {"exact", "near", "contained"} <= set.union(
        *(c["reasons"] for c in facts.values())
    )

    driver = _chrome()
    wait = WebDriverWait(driver, 15)

    def status() -> str:
        return str(driver.find_element(By.ID, "status").text)

    def listed() -> list[int]:
        """Cluster numbers of the whole view, following the pager to its last page."""
        numbers: list[int] = []
        while True:
            rows = driver.find_elements(By.CSS_SELECTOR, "#rows tr")
            numbers += [int(r.find_element(By.CSS_SELECTOR, "td").text) for r in rows]
            page = int(driver.find_element(By.ID, "pageno").get_attribute("value") or 0)
            if page >= int(driver.find_element(By.ID, "pagecount").text):
                return numbers
            next_page(status())

    def next_page(shown: str) -> None:
        driver.find_element(By.ID, "next").click()
        wait.until(lambda d: status() != shown)

    def expect(keep: Any, key: Any = None, reverse: bool = False) -> list[int]:
        chosen = [n for n, c in facts.items() if keep(c)]
        if key is None:
            return sorted(chosen, reverse=reverse)
        return sorted(chosen, key=lambda n: (-1 if reverse else 1) * round(key(facts[n]), 4))

    try:
        driver.get((out / "report" / "index.html").as_uri())
        wait.until(lambda d: "of 20" in status())
        assert listed() == list(range(1, 21))

        # A column header sorts; lowest scores first (the doubtful ones), again to reverse.
        driver.find_element(By.CSS_SELECTOR, "button.sort[data-sort=minc]").click()
        wait.until(lambda d: "by lowest containment, ascending" in status())
        assert "20 clusters shown" in status()
        assert driver.find_element(By.ID, "pagecount").text == "5"
        assert listed() == expect(lambda c: True, lambda c: c["c"])
        driver.find_element(By.CSS_SELECTOR, "button.sort[data-sort=minc]").click()
        wait.until(lambda d: "by lowest containment, descending" in status())
        assert listed() == expect(lambda c: True, lambda c: c["c"], reverse=True)
        driver.find_element(By.CSS_SELECTOR, "button.sort[data-sort=size]").click()
        wait.until(lambda d: "by documents, descending" in status())
        assert listed() == expect(lambda c: True, lambda c: c["size"], reverse=True)

        # The form: a reason, a size range, a score range, a sort; Apply.
        def apply(**fields: str) -> None:
            driver.find_element(By.ID, "reset").click()
            wait.until(lambda d: "of 20" in status() and "shown" not in status())
            for name, value in fields.items():
                element = driver.find_element(By.ID, name)
                if element.tag_name == "select":
                    Select(element).select_by_value(value)
                else:
                    element.send_keys(value)
            driver.find_element(By.CSS_SELECTOR, "#view button[type=submit]").click()
            wait.until(lambda d: "shown" in status() or "No cluster" in status())

        apply(reason="contained")
        contained = expect(lambda c: "contained" in c["reasons"])
        assert listed() == contained and f"{len(contained)} clusters shown" in status()
        for badge in driver.find_elements(By.CSS_SELECTOR, "#rows tr"):
            assert "contained" in badge.text
        apply(reason="exact", sort="minj")
        assert listed() == expect(lambda c: "exact" in c["reasons"], lambda c: c["j"])
        apply(smin="3")
        assert listed() == expect(lambda c: c["size"] >= 3)
        apply(jmax="0.6", sort="minj", dir="desc")
        assert listed() == expect(lambda c: c["j"] <= 0.6, lambda c: c["j"], reverse=True)
        apply(cmin="0.99", cmax="1", reason="near")
        assert listed() == expect(lambda c: c["c"] >= 0.99 and "near" in c["reasons"])
        apply(smin="9")
        assert status() == "No cluster of 20 is of 9–∞ documents."

        # The view is in the URL: reloading it (a bookmark) shows the same.
        apply(reason="near", sort="minj")
        url = driver.current_url
        assert "reason=near" in url and "sort=minj" in url
        driver.get((out / "report" / "clusters" / "0000001.html").as_uri())
        driver.get(url)
        wait.until(lambda d: "shown" in status())
        assert listed() == expect(lambda c: "near" in c["reasons"], lambda c: c["j"])
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report-sorted.png"))

        # The decisions nearest a threshold link to their pages: the pair and its sentences.
        driver.find_element(By.CSS_SELECTOR, '#near ~ table.near a[href="near/0001.html"]').click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "ol.sentences li"))
        assert "A · removed copy" in driver.find_element(By.CSS_SELECTOR, ".sides").text
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
    finally:
        driver.quit()


def test_report_in_chromium(tmp_path: Path, seeds_dir: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out = tmp_path / "out"
    run([seeds_dir, SAMPLES], out)
    write_report(DedupOutput.load(out), out / "report")
    driver = _chrome()
    wait = WebDriverWait(driver, 15)
    try:
        driver.get((out / "report" / "index.html").as_uri())
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rows tr"))
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report-index.png"))

        # The scrape was removed for the clean copy: searching its id finds their cluster.
        driver.find_element(By.ID, "q").send_keys(SEED_SCRAPE)
        driver.find_element(By.CSS_SELECTOR, "#search button[type=submit]").click()
        wait.until(lambda d: "match" in d.find_element(By.ID, "status").text)
        rows = driver.find_elements(By.CSS_SELECTOR, "#rows tr")
        assert len(rows) == 1 and SEED_SCRAPE in rows[0].text
        assert driver.find_element(By.ID, "status").text.startswith("1 cluster matches")
        rows[0].find_element(By.CSS_SELECTOR, "a.kept").click()

        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.pair"))
        assert SEED_CLEAN in driver.find_element(By.TAG_NAME, "h1").text
        marks = driver.find_elements(By.CSS_SELECTOR, ".sides mark")
        struck = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".sides del")]
        only = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".sides .only"))
        assert len(marks) >= 6 and marks[0].is_displayed()
        assert "Tin bài liên quan" in struck and "Đọc nhiều" in struck
        assert "bà Psaki nói" in only
        driver.save_screenshot(str(ARTIFACTS / "report.png"))
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
    finally:
        driver.quit()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


# ------------------------------------------------------------------------------ large outputs


def synthetic_output(folder: Path, clusters: int, texts_for: int = 3) -> Path:
    """A dedup output of ``clusters`` clusters (2 or 3 documents each) without a real run.

    Its input holds the texts of the first ``texts_for`` clusters, so they get real pages.
    """
    folder.mkdir(parents=True)
    size = np.where(np.arange(clusters) % 4 == 0, 3, 2)
    rows = int(size.sum())
    cluster_of = np.repeat(np.arange(clusters), size)
    first_row = np.concatenate([[0], np.cumsum(size)[:-1]])
    member = np.arange(rows) - first_row[cluster_of]
    ids = np.array(
        [f"{c:07d}/{m}" for c, m in zip(cluster_of.tolist(), member.tolist(), strict=True)]
    )
    kept = member == 0
    kept_ids = ids[first_row][cluster_of]
    table = pa.table(
        {
            "id": ids,
            "cluster_id": kept_ids,
            "kept": kept,
            "duplicate_of": pa.array(np.where(kept, None, kept_ids), pa.string()),
            "jaccard": pa.array(np.where(kept, np.nan, 0.8), from_pandas=True),
            "containment": pa.array(np.where(kept, np.nan, 0.9), from_pandas=True),
            "reason": pa.array(np.where(kept, None, "near"), pa.string()),
        },
        schema=CLUSTER_SCHEMA,
    )
    pq.write_table(table, folder / "clusters.parquet")
    story = "Bộ Ngoại giao Mỹ xác nhận Ngoại trưởng sẽ hội đàm với các quan chức vào tuần tới"
    docs = [
        {"id": str(i), "text": f"Tin {i}\n{story}.\nTin bài liên quan\nMột\nHai"}
        for i in ids[: int(size[:texts_for].sum())]
    ]
    inputs = write_jsonl(folder / "in.jsonl", docs)
    summary = {
        "documents_read": rows,
        "documents_kept": clusters,
        "documents_removed": rows - clusters,
        "removed_by_reason": {"exact": 0, "near": rows - clusters, "contained": 0},
        "clusters": clusters,
        "cleaning": {"lines_removed_by_rule": {}, "learned_boilerplate": {"chrome_lines": 0}},
        "matching": {"verified_pairs_histogram": {"jaccard": [1] * 100, "containment": [2] * 100}},
        "config": DedupConfig().to_dict(),
        "inputs": [str(inputs)],
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


_MEASURE = """
import re, sys
from pathlib import Path
from tinlap.apps.report import write_report
from tinlap.apps.retrieve import DedupOutput

def peak_kib():  # VmHWM: this process's own peak (getrusage's ru_maxrss counts the parent's)
    return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))

output = DedupOutput.load(Path(sys.argv[1]))
before = peak_kib()
stats = write_report(output, Path(sys.argv[2]), max_details=int(sys.argv[3]))
print(before, peak_kib(), stats.clusters, stats.details, stats.texts_found)
"""


def _peak_growth_mib(out: Path, max_details: int) -> tuple[float, list[int]]:
    """Peak RSS growth while writing the report, in a fresh process."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc to measure peak memory")
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(out), str(out / "report"), str(max_details)],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after, *stats = map(int, done.stdout.split())
    return (after - before) / 1024, stats


def test_large_output_builds_in_bounded_memory(tmp_path: Path) -> None:
    """Ten times the clusters must not cost ten times the memory: clusters.parquet is streamed.

    Loading 200k clusters (450k rows) into Python at once would take hundreds of MB more
    than 20k clusters; streaming costs one batch, one list page and fixed buffers.
    """
    small = synthetic_output(tmp_path / "small", 20_000)
    large = synthetic_output(tmp_path / "large", 200_000)
    growth_small, stats_small = _peak_growth_mib(small, 400)
    growth_large, stats_large = _peak_growth_mib(large, 400)
    assert stats_large[:2] == [200_000, 400]  # clusters; pages of their own (one per list page)
    # Texts found: all 7 documents of the 3 clusters the input holds (the first cluster has a
    # page of its own; the 200 removals nearest a threshold, all equally near, are the first).
    assert stats_large[2] == 7 and stats_small[2] == 7
    print(f"peak growth: {growth_small:.1f} MiB (20k clusters), {growth_large:.1f} MiB (200k)")
    assert growth_large - growth_small < 50, (growth_small, growth_large)
    assert growth_large < 150, growth_large
    pages = sorted((large / "report" / "data" / "pages").glob("*.js"))
    assert len(pages) == 200_000 // PAGE_SIZE
    first = (large / "report" / "clusters" / "0000001.html").read_text()
    assert "<mark>" in first and "<del>Tin bài liên quan</del>" in first
    assert "not found in the inputs" in (large / "report" / "clusters" / "0000501.html").read_text()
