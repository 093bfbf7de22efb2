"""Languages written without spaces (Chinese, Japanese, Thai...): character units and shingles.

Every text here is generated from fixed character lists with a seeded RNG (no corpus of these
languages ships with the project): unrelated texts share characters, as real ones do, but not
phrases; a near-copy is one of them with a few characters edited and a paragraph added.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

import tinlap
from tinlap.apps.cli import main
from tinlap.config import DedupConfig
from tinlap.core import normalise
from tinlap.core.batch import sketch_records
from tinlap.core.normalise import Tokeniser, key_units, matching_key, unit_pieces
from tinlap.core.sentences import aligned_coverage, split_sentences
from tinlap.core.verify import score_sets
from tinlap.index.store import DB_NAME, Index, IndexSettings, IndexSettingsError
from tinlap.records import Record
from tinlap.settings import load_file

HAN = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学"
    "对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面"
    "公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部"
    "正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关"
)
KANA = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
)
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロワン"
THAI_CONSONANTS = "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮ"
THAI_VOWELS = ["า", "ิ", "ี", "ึ", "ื", "ุ", "ู", "ั", "ำ", ""]
THAI_TONES = ["่", "้", "", ""]
THAI_LEAD = ["เ", "แ", "โ", "ไ", "", "", "", ""]
KHMER_CONSONANTS = "កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវសហឡអ"
KHMER_VOWELS = ["ា", "ិ", "ី", "ឹ", "ឺ", "ុ", "ូ", "េ", "ែ", "ោ", ""]


def _han_word(rng: random.Random) -> str:
    return "".join(rng.choice(HAN) for _ in range(rng.choice((1, 2, 2, 2, 3))))


def _japanese_word(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(HAN) for _ in range(rng.randint(1, 2))) + rng.choice(KANA)
    if rng.random() < 0.5:
        return "".join(rng.choice(KATAKANA) for _ in range(rng.randint(2, 5)))
    return rng.choice(["の", "は", "が", "を", "に", "で", "と"])


def _thai_word(rng: random.Random) -> str:
    return "".join(
        rng.choice(THAI_LEAD)
        + rng.choice(THAI_CONSONANTS)
        + rng.choice(THAI_VOWELS)
        + rng.choice(THAI_TONES)
        for _ in range(rng.randint(1, 3))
    )


def _khmer_word(rng: random.Random) -> str:
    return "".join(
        rng.choice(KHMER_CONSONANTS) + rng.choice(KHMER_VOWELS) for _ in range(rng.randint(1, 3))
    )


# script: (word maker, joiner between words, sentence end, characters edits insert)
SCRIPTS = {
    "zh": (_han_word, "", "。", HAN),
    "ja": (_japanese_word, "", "。", KANA + HAN),
    "th": (_thai_word, "", " ", THAI_CONSONANTS),
    "km": (_khmer_word, "", "។", KHMER_CONSONANTS),
}


def paragraph(script: str, rng: random.Random, sentences: int = 3) -> str:
    word, joiner, end, _ = SCRIPTS[script]
    return "".join(
        joiner.join(word(rng) for _ in range(rng.randint(8, 16))) + end for _ in range(sentences)
    ).strip()


def article(script: str, rng: random.Random, paragraphs: int = 4) -> str:
    return "\n".join(paragraph(script, rng) for _ in range(paragraphs))


def near_copy(script: str, text: str, rng: random.Random, edits: int = 4) -> str:
    """``text`` with ``edits`` characters replaced and a paragraph added at the end."""
    chars = list(text)
    pool = SCRIPTS[script][3]
    for _ in range(edits):
        at = rng.randrange(len(chars))
        if not chars[at].isspace():
            chars[at] = rng.choice(pool)
    return "".join(chars) + "\n" + paragraph(script, rng)


def corpus(script: str, seed: int, originals: int = 12) -> tuple[list[dict[str, str]], dict]:
    """Unrelated originals, and a near-copy of every third one; truth: copy id -> original id."""
    rng = random.Random(seed)
    docs, truth = [], {}
    for i in range(originals):
        text = article(script, rng)
        docs.append({"id": f"{script}-{i}", "text": text})
        if i % 3 == 0:
            docs.append({"id": f"{script}-{i}-copy", "text": near_copy(script, text, rng)})
            truth[f"{script}-{i}-copy"] = f"{script}-{i}"
    return docs, truth


def clustered_pairs(result: tinlap.api.DedupResult) -> set[frozenset[str]]:
    rows = result.clusters.to_pylist()
    return {frozenset((r["id"], r["duplicate_of"])) for r in rows if not r["kept"]}


def pair_scores(a: str, b: str, **settings: object) -> tuple[float, float, float]:
    config = DedupConfig(clean=False, learn_boilerplate=False, **settings)  # type: ignore[arg-type]
    sets = sketch_records([Record("a", a, ""), Record("b", b, "")], config).shingles
    return score_sets(sets.of(0), sets.of(1))


# ------------------------------------------------------------------------------------ units


def test_characters_of_unspaced_scripts_are_units_and_other_words_stay_words() -> None:
    pieces = unit_pieces("iPhone发布会2024年")
    assert [(p.units, p.chars) for p in pieces] == [
        (("iphone",), False),
        (("发",), True),
        (("布",), True),
        (("会",), True),
        (("2024",), False),
        (("年",), True),
    ]
    # Marks stay with their letter; width and compatibility forms meet their plain spelling.
    assert [p.units for p in unit_pieces("ลัง")] == [("ลั",), ("ง",)]
    # Thai sara am (ำ) decomposes to nikhahit + sara aa, as some keyboards type it.
    assert [u for p in unit_pieces("กำ") for u in p.units] == ["กํ", "า"]
    assert [u for p in unit_pieces("กํา") for u in p.units] == ["กํ", "า"]
    assert [u for p in unit_pieces("ｶﾞｲﾄﾞ") for u in p.units] == [
        u for p in unit_pieces("ガイド") for u in p.units
    ]
    assert [u for p in unit_pieces("\u3300") for u in p.units] == [
        u for p in unit_pieces("アパート") for u in p.units
    ]


def test_vietnamese_units_are_its_words_in_every_mode_but_chars() -> None:
    text = "Thủ tướng hòa giải: Quý khách hoà nhã, COVID-19 tăng 1.000 đồng/lít!"
    tokeniser = Tokeniser()
    words = tokeniser.tokenise_batch([text], "words")
    auto = tokeniser.tokenise_batch([text], "auto")
    assert auto.chars is None and words.chars is None
    assert auto.hashes.tolist() == words.hashes.tolist()
    chars = tokeniser.tokenise_batch([text], "chars")
    assert chars.chars is not None and chars.chars.all()
    letters = [c for c in matching_key(text) if c != " " and unicodedata.category(c)[0] != "M"]
    assert len(chars.hashes) == len(letters)  # a letter with its marks is one unit
    # Tone placement still does not matter when every character is a unit.
    again = tokeniser.tokenise_batch(["Thuỷ thủ hoà"], "chars").hashes.tolist()
    assert again == tokeniser.tokenise_batch(["Thủy thủ hòa"], "chars").hashes.tolist()


def test_key_units_count_characters_of_unspaced_scripts() -> None:
    assert key_units("hà nội") == ["hà", "nội"]
    assert key_units(matching_key("新华社北京电，iPhone发布会")) == [
        *"新华社北京电",
        "iphone",
        *"发布会",
    ]


# ------------------------------------------------------------------------------- sentences


def test_sentences_split_at_the_scripts_own_ends() -> None:
    assert split_sentences("他来了。你好吗？我很好！然后") == [
        "他来了。",
        "你好吗？",
        "我很好！",
        "然后",
    ]
    assert split_sentences("東京で発表した。 次に") == ["東京で発表した。", "次に"]
    assert split_sentences("ภาษาไทย ง่าย มาก") == ["ภาษาไทย", "ง่าย", "มาก"]
    assert split_sentences("ខ្មែរ។ភាសា") == ["ខ្មែរ។", "ភាសា"]
    assert split_sentences("မြန်မာ။ စာ") == ["မြန်မာ။", "စာ"]
    # Vietnamese as before: a full stop inside a number is no end.
    assert split_sentences("Giá 1.000 đồng. Tăng") == ["Giá 1.000 đồng.", "Tăng"]


@pytest.mark.parametrize("script", ["zh", "ja", "th"])
def test_sentence_check_counts_characters_and_finds_edited_sentences(script: str) -> None:
    rng = random.Random(7)
    text = article(script, rng)
    copy = near_copy(script, text, rng, edits=6)
    alignment = aligned_coverage(copy, text)
    assert alignment.weight > 0  # sentences long enough to count, in characters
    assert alignment.coverage >= 0.6
    assert alignment.edited > 0  # the edited sentences align as light edits
    other = article(script, random.Random(8))
    assert aligned_coverage(other, text).coverage == 0.0


# ------------------------------------------------------------------------------ shingles


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_near_copies_score_high_only_with_character_units(script: str) -> None:
    rng = random.Random(3)
    text = article(script, rng)
    copy = near_copy(script, text, rng)
    jaccard, contained, _ = pair_scores(text, copy)
    assert contained >= 0.9 and jaccard >= 0.6
    # Whitespace words: a sentence (or a clause) is one word, so one edit spoils all of it.
    words_jaccard, _, _ = pair_scores(text, copy, shingles="words")
    assert words_jaccard < 0.2
    unrelated = article(script, random.Random(4))
    assert max(pair_scores(text, unrelated)) < 0.1


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_dedup_finds_near_copies_and_keeps_unrelated_texts(script: str) -> None:
    docs, truth = corpus(script, seed=11)
    result = tinlap.dedup(docs)
    assert clustered_pairs(result) == {frozenset(pair) for pair in truth.items()}
    assert result.summary["documents_removed"] == len(truth)


def test_the_sharded_engine_rebuilds_character_shingles_as_the_in_memory_one(
    tmp_path: Path,
) -> None:
    """The sharded engine keeps cleaned texts, not shingle sets, and rebuilds the sets it
    verifies: in the run's units (a rebuild in words would score these pairs near 0)."""
    docs, truth = corpus("zh", seed=14)
    sharded = tinlap.dedup(docs, engine="sharded", workers=1, work=str(tmp_path / "work"))
    assert clustered_pairs(sharded) == {frozenset(pair) for pair in truth.items()}
    assert sharded.clusters.equals(tinlap.dedup(docs).clusters)


def test_forced_words_misses_them_and_forced_chars_finds_them() -> None:
    docs, truth = corpus("zh", seed=12)
    assert clustered_pairs(tinlap.dedup(docs, shingles="words")) == set()
    found = clustered_pairs(tinlap.dedup(docs, shingles="chars", char_shingle_size=3))
    assert found == {frozenset(pair) for pair in truth.items()}


def test_mixed_document_japanese_with_english_words() -> None:
    rng = random.Random(5)
    text = "\n".join(
        paragraph("ja", rng) + " Apple iPhone 16 Pro " + paragraph("ja", rng) for _ in range(3)
    )
    copy = near_copy("ja", text, rng)
    _, contained, _ = pair_scores(text, copy)
    assert contained >= 0.9
    assert pair_scores(text, copy, shingles="chars")[1] >= 0.9


def test_the_character_size_setting_changes_the_shingles() -> None:
    text = article("zh", random.Random(9))
    small = pair_scores(text, text.replace(text[10], "门", 1), char_shingle_size=2)
    large = pair_scores(text, text.replace(text[10], "门", 1), char_shingle_size=9)
    assert small[0] > large[0]  # one edit costs a longer shingle more


# ------------------------------------------------------------------- Vietnamese unchanged


def test_vietnamese_sample_gives_the_same_output_as_words(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"
    auto = tinlap.dedup(sample)
    words = tinlap.dedup(sample, shingles="words")
    assert auto.clusters.equals(words.clusters)
    assert auto.kept.equals(words.kept)
    assert auto.summary["config"]["shingles"] == "auto"


# ----------------------------------------------------------------------- index, CLI, explain


def test_index_finds_a_chinese_near_copy(tmp_path: Path) -> None:
    rng = random.Random(13)
    texts = [article("zh", rng) for _ in range(4)]
    with tinlap.Index.create(tmp_path / "idx") as index:
        index.add([{"id": str(i), "text": t} for i, t in enumerate(texts)])
        verdicts = index.check([near_copy("zh", texts[2], rng), article("zh", rng)])
    assert verdicts[0]["duplicate_of"] == "2"
    assert not verdicts[1]["duplicate"]


def test_an_index_made_before_the_setting_keeps_matching_on_words(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    Index.create(path, IndexSettings(shingles="words")).close()
    with sqlite3.connect(path / DB_NAME) as con:  # as an earlier tinlap wrote it
        (stored,) = con.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        old = {k: v for k, v in json.loads(stored).items() if k not in ("shingles",)}
        con.execute("UPDATE meta SET value = ? WHERE key = 'settings'", (json.dumps(old),))
    with Index(path) as index:
        assert index.settings.shingles == "words"
        index.check_config(DedupConfig(shingles="words"))
        with pytest.raises(IndexSettingsError, match="shingles: index 'words', this run 'auto'"):
            index.check_config(DedupConfig())


def test_cli_options_reach_the_run_and_the_summary(tmp_path: Path) -> None:
    docs, _ = corpus("th", seed=14)
    source = write_jsonl(tmp_path / "th.jsonl", docs)
    runner = CliRunner()
    out = tmp_path / "out"
    args = ["dedup", str(source), "-o", str(out), "-q", "--shingles", "chars"]
    result = runner.invoke(main, [*args, "--char-shingle-size", "6"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "summary.json").read_text())["config"]
    assert (config["shingles"], config["char_shingle_size"]) == ("chars", 6)
    bad = runner.invoke(main, ["dedup", str(source), "-o", str(tmp_path / "o2"), "--shingles", "x"])
    assert bad.exit_code == 2 and "--shingles" in bad.output
    with pytest.raises(ValueError, match="shingles must be auto, words, chars"):
        DedupConfig(shingles="letters")


def test_explain_scores_as_dedup_and_marks_characters_not_whole_clauses() -> None:
    rng = random.Random(15)
    text = article("zh", rng)
    copy = text[:40] + "门门门门门门门门" + text[48:]
    result = tinlap.explain(text, copy)
    assert result["settings"]["shingles"] == "auto"
    only = result["b"]["only"]
    # The replaced stretch (and the shingles around it) is marked, not the whole paragraph.
    assert only and all(end - start < 30 for start, end in only)
    assert any(start <= 44 < end for start, end in only)
    run = tinlap.dedup([{"id": "a", "text": text}, {"id": "b", "text": copy}], no_learn=True)
    (removed,) = [r for r in run.clusters.to_pylist() if not r["kept"]]
    assert removed["jaccard"] == pytest.approx(result["scores"]["jaccard"])
    assert result["decision"]["removed"] == removed["id"]


def test_every_character_that_decomposes_into_those_scripts_is_caught_on_the_fast_path() -> None:
    missed = []
    for cp in range(sys.maxunicode + 1):
        char = chr(cp)
        decomposed = unicodedata.normalize("NFKD", char)
        unit = decomposed != char and normalise._UNIT_SCRIPT.search(decomposed)
        if unit and not normalise._RAW_UNIT.match(char):
            missed.append(f"U+{cp:04X}")
    assert not missed


def test_an_earlier_runs_summary_repeats_and_explains_with_words(tmp_path: Path) -> None:
    docs, truth = corpus("zh", seed=16)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["dedup", str(write_jsonl(tmp_path / "zh.jsonl", docs)), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    del summary["config"]["shingles"]  # as a tinlap before the setting wrote it
    (out / "summary.json").write_text(json.dumps(summary))
    assert load_file(out / "summary.json")["shingles"] == "words"
    copy, original = next(iter(truth.items()))
    explained = tinlap.explain(copy, original, output_dir=out)
    assert explained["settings"]["shingles"] == "words"
