"""tinlap report: the static site's contents, its behaviour in headless Chromium, its memory."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import SEED_CLEAN, SEED_SCRAPE, run, write_jsonl

from tinlap.apps.cli import main
from tinlap.apps.report import PAGE_SIZE, write_report
from tinlap.apps.retrieve import DedupOutput, OutputError
from tinlap.config import DedupConfig
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
    assert stats_large[2] == 3 and stats_small[2] == 7  # texts found in the small inputs
    assert growth_large - growth_small < 50, (growth_small, growth_large)
    assert growth_large < 150, growth_large
    pages = sorted((large / "report" / "data" / "pages").glob("*.js"))
    assert len(pages) == 200_000 // PAGE_SIZE
    first = (large / "report" / "clusters" / "0000001.html").read_text()
    assert "<mark>" in first and "<del>Tin bài liên quan</del>" in first
    assert "not found in the inputs" in (large / "report" / "clusters" / "0000501.html").read_text()
