"""Synthetic reposts: seeded variants of VNTC articles, mixed with distractors.

A variant is what a second site publishing the same story looks like after scraping: the
article wrapped in that site's chrome, its first/last paragraphs trimmed, paragraphs from
another story appended, and the text re-encoded (tone style, NFD, zero-width characters,
quotes, NBSP, a few light edits). Each variant records how it was made, so recall can be broken
down by transformation; its label against the base still comes from the oracle, so a variant
that kept too little of its base is not counted as a copy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import chrome
import numpy as np
from corpus import Article

TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
# Open syllables whose tone placement differs between the old (hòa) and new (hoà) styles.
# q+uy and gi+... are excluded: both styles agree there (quý, già).
SWAPPABLE = re.compile(
    r"^(b|c|ch|d|đ|g|gh|h|k|kh|l|m|n|ng|ngh|nh|p|ph|r|s|t|th|tr|v|x)?(oa|oe|uy)$"
)
WORD = re.compile(r"\w+")
ZERO_WIDTH_CHARS = ["\u200b", "\ufeff", "\u00ad", "\u200c", "\u2060"]
CONNECTIVES = [
    "Được biết, ",
    "Theo đó, ",
    "Trong khi đó, ",
    "Cũng theo nguồn tin này, ",
    "Ngoài ra, ",
]
NOISES = ("tone", "nfd", "zero_width", "quotes", "nbsp", "edits")
RECIPES = {  # name: weight. excerpt_mix aims at partial reuse, the others at copies.
    "wrap": 3,
    "trim": 3,
    "extend": 3,
    "wrap_trim_extend": 3,
    "excerpt_mix": 2,
}


def toggle_tone_style(word: str) -> str:
    """Move the tone between the two vowels of oa/oe/uy open syllables (hòa <-> hoà)."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in TONE_MARKS]
    if len(tones) != 1:
        return word
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONE_MARKS))
    if not SWAPPABLE.match(bare.lower()):
        return word
    first_has = any(ch in TONE_MARKS for ch in unicodedata.normalize("NFD", word[-2]))
    target = len(bare) - 1 if first_has else len(bare) - 2
    out = bare[:target] + unicodedata.normalize("NFC", bare[target] + tones[0]) + bare[target + 1 :]
    return out


def swap_tone_style(text: str) -> str:
    return WORD.sub(lambda m: toggle_tone_style(m.group(0)), text)


def insert_zero_width(text: str, rng: np.random.Generator, per_words: int = 30) -> str:
    """Zero-width characters inside words and next to spaces, as pasted web text carries."""
    spots = [m.start() + 1 for m in WORD.finditer(text) if m.end() - m.start() > 1]
    spots += [m.start() for m in re.finditer(" ", text)]
    if not spots:
        return text
    k = int(rng.binomial(len(spots), 1 / (2 * per_words)))
    chosen = sorted(set(int(i) for i in rng.choice(spots, size=k, replace=False)))
    parts, prev = [], 0
    for pos in chosen:
        parts.append(text[prev:pos])
        parts.append(chrome.pick(rng, ZERO_WIDTH_CHARS))
        prev = pos
    parts.append(text[prev:])
    return "".join(parts)


def swap_quotes(text: str, straighten: bool | None = None) -> str:
    """Straight quotes become curly, curly become straight (outlets differ)."""
    if straighten is None:
        straighten = "“" in text or "’" in text
    if straighten:
        return text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    out, opened = [], False
    for ch in text:
        if ch == '"':
            out.append("”" if opened else "“")
            opened = not opened
        elif ch == "'":
            out.append("’")
        else:
            out.append(ch)
    return "".join(out)


def sprinkle_nbsp(text: str, rng: np.random.Generator, share: float = 0.08) -> str:
    """Replace a share of spaces by NBSP (after numbers, before units, at random)."""
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch == " " and (rng.random() < share or (i and chars[i - 1].isdigit())):
            chars[i] = "\u00a0"
    return "".join(chars)


def add_noise(line: str, noises: list[str], rng: np.random.Generator, straighten: bool) -> str:
    """The re-encodings a republishing site introduces, applied to one line."""
    if "tone" in noises:
        line = swap_tone_style(line)
    if "quotes" in noises:
        line = swap_quotes(line, straighten)
    if "nbsp" in noises:
        line = sprinkle_nbsp(line, rng)
    if "zero_width" in noises:
        line = insert_zero_width(line, rng)
    if "nfd" in noises:
        line = unicodedata.normalize("NFD", line)
    return line


def light_edits(paragraphs: list[str], rng: np.random.Generator) -> list[str]:
    """An editor's touch: a connective before some sentences, a word dropped from long ones."""
    out = []
    for para in paragraphs:
        sentences = re.split(r"(?<=[.!?])\s+", para)
        edited = []
        for s in sentences:
            words = s.split(" ")
            r = rng.random()
            if r < 0.12 and len(words) >= 8 and s[:1].isupper():
                s = chrome.pick(rng, CONNECTIVES) + s[0].lower() + s[1:]
            elif r < 0.2 and len(words) >= 30:
                del words[int(rng.integers(1, len(words) - 1))]
                s = " ".join(words)
            edited.append(s)
        out.append(" ".join(edited))
    return out


def title_of(article: Article, rng: np.random.Generator) -> str:
    """The title as another site's related-links list would show it."""
    first = article.text.split("\n", 1)[0].strip()
    if len(first) <= 110:
        return first
    words = first.split()
    return " ".join(words[: int(rng.integers(8, 15))])


def paragraphs_of(article: Article) -> tuple[str, list[str]]:
    lines = [ln.strip() for ln in article.text.split("\n")]
    lines = [ln for ln in lines if ln]
    return lines[0], lines[1:]


@dataclass(slots=True)
class Variant:
    """A generated repost and how it was made."""

    id: str
    base_id: str
    recipe: str
    intended: str  # label the construction aims at (the oracle has the last word)
    intended_coverage: float
    noises: list[str]
    site: str
    chrome: bool
    kept_share: float  # share of the base's body characters kept
    added_share: float  # appended foreign text, relative to the base body
    text: str = ""  # the page as published: what tinlap reads
    content: str = ""  # the same page without the generated chrome: what the oracle reads


@dataclass(slots=True)
class SyntheticSample:
    """Documents to deduplicate plus what is known about them by construction."""

    docs: list[Article]
    variants: list[Variant]
    bases: list[str]
    hard_negatives: list[tuple[str, str]]  # (base id, same topic+source article id)
    meta: dict[str, object] = field(default_factory=dict)

    def oracle_docs(self) -> list[Article]:
        """The documents as the oracle reads them: variants without their generated chrome."""
        content = {v.id: v.content for v in self.variants}
        return [Article(d.id, content.get(d.id, d.text), d.topic, d.source) for d in self.docs]


def eligible_base(article: Article) -> bool:
    """Long enough to trim and extend, with enough paragraphs to choose from."""
    _, body = paragraphs_of(article)
    return 1500 <= len(article.text) <= 8000 and len(body) >= 4


def make_variant(
    base: Article,
    vid: str,
    rng: np.random.Generator,
    site: chrome.Site,
    donors: Sequence[Article],
    link_titles: Sequence[str],
) -> Variant:
    """One repost of `base` by `site`, with a recipe and noises drawn from `rng`."""
    names = list(RECIPES)
    weights = np.array([RECIPES[n] for n in names], dtype=float)
    recipe = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    title, body = paragraphs_of(base)
    body_chars = sum(map(len, body))
    kept = list(body)
    if recipe in ("trim", "wrap_trim_extend"):
        start = int(rng.integers(0, 2))
        stop = len(kept) - int(rng.integers(1, 3))
        kept = kept[start : max(stop, start + 2)]
    if recipe == "excerpt_mix":
        target = rng.uniform(0.3, 0.5) * body_chars
        start = int(rng.integers(0, max(1, len(body) // 2)))
        kept, size = [], 0
        for para in body[start:]:
            if kept and size + len(para) > target:
                break
            kept.append(para)
            size += len(para)
    added: list[str] = []
    if recipe in ("extend", "wrap_trim_extend", "excerpt_mix"):
        want = body_chars - sum(map(len, kept)) if recipe == "excerpt_mix" else 0
        while True:
            donor = donors[int(rng.integers(len(donors)))]
            _, dbody = paragraphs_of(donor)
            if not dbody:
                continue
            n = int(rng.integers(1, 4))
            s = int(rng.integers(0, max(1, len(dbody) - n + 1)))
            added += dbody[s : s + n]
            if sum(map(len, added)) >= want:
                break
    kept_share = sum(map(len, kept)) / body_chars
    added_share = sum(map(len, added)) / body_chars

    noises = [n for n in NOISES if rng.random() < 0.35]
    paragraphs = kept + added
    if "edits" in noises:
        paragraphs = light_edits(paragraphs, rng)
    with_chrome = recipe != "extend" or rng.random() < 0.5
    marked = (
        wrap_in_chrome(title, paragraphs, rng, site, link_titles)
        if with_chrome
        else [(line, True) for line in [title, *paragraphs]]
    )
    # The label the construction intends, by the oracle's definition on raw characters of the
    # article content (the oracle does not read the generated chrome).
    shared = len(title) + sum(map(len, kept))
    content_chars = len(title) + sum(map(len, paragraphs))
    intended_cov = shared / min(len(title) + body_chars, content_chars)
    intended = "copy" if intended_cov >= 0.6 else "ambiguous" if intended_cov >= 0.3 else "not-copy"
    straighten = any("“" in line or "’" in line for line, _ in marked)
    noisy = [(add_noise(line, noises, rng, straighten), is_content) for line, is_content in marked]
    text = "\n".join(line for line, _ in noisy)
    content = "\n".join(line for line, is_content in noisy if is_content)
    return Variant(
        vid,
        base.id,
        recipe,
        intended,
        round(intended_cov, 3),
        noises,
        site.name,
        with_chrome,
        round(kept_share, 3),
        round(added_share, 3),
        text,
        content,
    )


def wrap_in_chrome(
    title: str,
    paragraphs: list[str],
    rng: np.random.Generator,
    site: chrome.Site,
    link_titles: Sequence[str],
) -> list[tuple[str, bool]]:
    """The article as a page of `site`: (line, is article content) for every line."""

    def some_titles(lo: int, hi: int) -> list[str]:
        k = min(len(link_titles), int(rng.integers(lo, hi + 1)))
        return [link_titles[i] for i in rng.choice(len(link_titles), k, replace=False)]

    title_words = title.split()
    lines = [site.menu]
    if rng.random() < 0.5:
        lines.append(f"Trang chủ » {chrome.pick(rng, list(chrome.TOPIC_LABEL.values()))}")
    if site.dated:
        lines.append(chrome.date_line(rng))
    content = {len(lines)}
    lines.append(title)
    n_captions = int(rng.integers(0, 3))
    caption_after = set(int(i) for i in rng.choice(len(paragraphs), n_captions, replace=True))
    for i, para in enumerate(paragraphs):
        content.add(len(lines))
        lines.append(para)
        if i in caption_after:
            lines += chrome.caption_lines(rng, site, title_words)
        if i == 1 and rng.random() < 0.2:
            lines += [chrome.pick(rng, site.headers), *some_titles(1, 2)]
    if rng.random() < 0.6:
        lines.append(chrome.person(rng, full=False) if rng.random() < 0.7 else "Nhóm phóng viên")
    if rng.random() < 0.4:
        lines.append(chrome.keyword_line(rng, title_words))
    if rng.random() < 0.5:
        lines.append(chrome.pick(rng, chrome.SHARE_LINES))
    for header in site.headers:
        lines += [header, *some_titles(2, 5)]
    if rng.random() < 0.5:
        lines += chrome.link_lines(rng, some_titles(1, 4))
    lines += site.footer
    return [(line, i in content) for i, line in enumerate(lines)]


def build(
    corpus: Sequence[Article],
    n_bases: int,
    n_distractors: int,
    seed: int,
    n_sites: int = 8,
    hard_per_base: int = 2,
) -> SyntheticSample:
    """Bases with 1-3 variants each, their hard negatives and random distractors, shuffled."""
    rng = np.random.default_rng(seed)
    sites = chrome.make_sites(rng, n_sites)
    order = rng.permutation(len(corpus))
    bases: list[Article] = []
    for i in order:
        if len(bases) >= n_bases:
            break
        if eligible_base(corpus[int(i)]):
            bases.append(corpus[int(i)])
    base_ids = {b.id for b in bases}

    by_group: dict[tuple[str, str], list[int]] = {}
    for i, a in enumerate(corpus):
        by_group.setdefault((a.topic, a.source), []).append(i)
    chosen: dict[str, Article] = {b.id: b for b in bases}
    hard: list[tuple[str, str]] = []
    for b in bases:
        pool = by_group[(b.topic, b.source)]
        picks = 0
        for j in rng.permutation(len(pool)):
            other = corpus[pool[int(j)]]
            if other.id in chosen or other.text == b.text:
                continue
            chosen[other.id] = other
            hard.append((b.id, other.id))
            picks += 1
            if picks >= hard_per_base:
                break
    for i in rng.permutation(len(corpus)):
        if len(chosen) >= len(bases) * (1 + hard_per_base) + n_distractors:
            break
        chosen.setdefault(corpus[int(i)].id, corpus[int(i)])

    donors = [
        a
        for a in (corpus[int(i)] for i in rng.permutation(len(corpus))[:5000])
        if a.id not in chosen
    ]
    in_sample_titles = [title_of(a, rng) for a in chosen.values() if a.id not in base_ids]
    outside_titles = [title_of(a, rng) for a in donors[:2000]]
    variants: list[Variant] = []
    for bi, base in enumerate(bases):
        k = int(rng.integers(1, 4))
        for j, si in enumerate(rng.choice(len(sites), size=k, replace=False)):
            titles = in_sample_titles if rng.random() < 0.7 else outside_titles
            v = make_variant(base, f"syn/{bi:05d}/v{j}", rng, sites[int(si)], donors, titles)
            variants.append(v)

    docs = list(chosen.values())
    docs += [Article(v.id, v.text, chosen[v.base_id].topic, v.site) for v in variants]
    docs = [docs[int(i)] for i in rng.permutation(len(docs))]
    meta = {
        "bases": len(bases),
        "variants": len(variants),
        "hard_negatives": len(hard),
        "documents": len(docs),
        "sites": [s.name for s in sites],
    }
    return SyntheticSample(docs, variants, [b.id for b in bases], hard, meta)
