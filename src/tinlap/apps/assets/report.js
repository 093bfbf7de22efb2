/* tinlap report: the cluster list of index.html: paginated, searchable, sortable, filterable.
 *
 * List pages (data/pages/NNNNNN.js), id lookup shards (data/ids/NNNN.js) and the facets
 * (data/facets.js) are scripts that call TINLAP.page / TINLAP.ids / TINLAP.facets: fetch() is
 * blocked on file:// pages, <script src> is not, so they are loaded on demand by adding a
 * script tag. Only a few list pages are kept in memory.
 *
 * A list row is [number, kept id, size, exact, near, contained, lowest Jaccard,
 * lowest containment, [first removed ids], has a page of its own].
 * A facets call is (first number, sizes, reason masks (1 exact, 2 near, 4 contained),
 * lowest Jaccards, lowest containments), one per list page: all a sort or a filter reads.
 * The list in cluster order, unfiltered, is the list pages themselves; any other view is the
 * cluster numbers the facets select, in order, shown META.viewSize at a time.
 */
"use strict";
(function () {
  const META = window.TINLAP_META;
  const MAX_RESULTS = 500;
  const CACHED_PAGES = 20;
  const PARALLEL_LOADS = 8;
  const REASONS = ["exact", "near", "contained"];
  const pages = new Map();
  const facetCalls = [];
  let facets = null;
  let idQuery = null;
  let idHits = [];
  let searchToken = 0;
  let current = 1;
  let state = defaults();
  let order = null;  // cluster numbers of the current view (null: cluster order, no filter)
  let orderKey = "";
  let keepAnchor = false;  // the page was opened at an anchor (#near): leave the URL as it is

  window.TINLAP = {
    page(n, rows) { pages.set(n, rows); },
    ids(entries) {
      for (const [id, number] of entries) if (id === idQuery) idHits.push(number);
    },
    facets(first, sizes, masks, minJ, minC) { facetCalls.push([first, sizes, masks, minJ, minC]); },
  };

  const $ = (id) => document.getElementById(id);
  const pad = (n, width) => String(n).padStart(width, "0");
  // The browser's twin of tinlap.wording: "1 cluster", "84,132 clusters" in any locale.
  const number = (n) => n.toLocaleString("en-US");
  const noun = (n, singular, plural) => (n === 1 ? singular : plural || singular + "s");
  const count = (n, singular, plural) => `${number(n)} ${noun(n, singular, plural)}`;

  function load(src) {
    return new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = script.onerror = () => { script.remove(); resolve(); };
      document.head.append(script);
    });
  }

  async function getPage(n) {
    if (!pages.has(n)) await load(`data/pages/${pad(n, 6)}.js`);
    const rows = pages.get(n) || [];
    while (pages.size > CACHED_PAGES) pages.delete(pages.keys().next().value);
    return rows;
  }

  async function getFacets() {
    if (facets) return facets;
    await load("data/facets.js");
    const n = META.clusters;
    facets = {
      size: new Int32Array(n + 1),
      mask: new Uint8Array(n + 1),
      minj: new Float64Array(n + 1).fill(NaN),
      minc: new Float64Array(n + 1).fill(NaN),
    };
    for (const [first, sizes, masks, minJ, minC] of facetCalls) {
      for (let i = 0; i < sizes.length; i++) {
        const k = first + i;
        facets.size[k] = sizes[i];
        facets.mask[k] = masks[i];
        if (minJ[i] !== null) facets.minj[k] = minJ[i];
        if (minC[i] !== null) facets.minc[k] = minC[i];
      }
    }
    facetCalls.length = 0;
    return facets;
  }

  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(text) {  // as Python's zlib.crc32 over the UTF-8 bytes
    let c = 0xffffffff;
    for (const byte of new TextEncoder().encode(text)) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, attrs || {});
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  const score = (v) => (v === null ? "–" : v.toFixed(3));

  function rowElement(r) {
    const [number_, id, size, exact, near, contained, minJ, minC, removed, detail] = r;
    const name = detail
      ? el("a", { href: `clusters/${pad(number_, 7)}.html`, className: "kept" }, id)
      : el("span", { className: "kept", title: "no page of its own: tinlap explain " +
          `${removed[0] || "REMOVED"} ${id} --output-dir OUT` }, id);
    const others = size - 1 - removed.length;
    const members = el("div", { className: "members" },
      removed.join(" · ") + (others > 0 ? ` · … ${number(others)} more` : ""));
    const reasons = el("td", {});
    for (const [label, n] of [["exact", exact], ["near", near], ["contained", contained]]) {
      if (n) reasons.append(el("span", { className: `badge ${label}` }, `${label} ${number(n)}`), " ");
    }
    return el("tr", {},
      el("td", { className: "num" }, number(number_)),
      el("td", {}, name, members),
      el("td", { className: "num" }, number(size)),
      reasons,
      el("td", { className: "num minj" }, score(minJ)),
      el("td", { className: "num minc" }, score(minC)));
  }

  function show(rows, status) {
    $("rows").replaceChildren(...rows.map(rowElement));
    $("status").textContent = status;
  }

  // ------------------------------------------------------------------ views: sort and filter

  function defaults() {
    return { sort: "number", dir: "asc", reason: "", smin: "", smax: "", jmin: "", jmax: "",
      cmin: "", cmax: "" };
  }
  const FILTERS = ["reason", "smin", "smax", "jmin", "jmax", "cmin", "cmax"];
  const isPlain = (s) => s.sort === "number" && s.dir === "asc" && FILTERS.every((f) => !s[f]);
  const SORT_NAMES = { number: "cluster order", size: "documents", minj: "lowest Jaccard",
    minc: "lowest containment" };

  function readForm() {
    const s = {};
    for (const key of Object.keys(defaults())) s[key] = $(key).value.trim();
    return s;
  }

  function writeForm(s) {
    for (const key of Object.keys(defaults())) $(key).value = s[key];
    for (const button of document.querySelectorAll("button.sort")) {
      const on = button.dataset.sort === s.sort;
      button.classList.toggle("on", on);
      button.dataset.dir = on ? s.dir : "";
    }
  }

  async function viewOrder(s) {
    const key = JSON.stringify(s);
    if (key === orderKey) return order;
    const f = await getFacets();
    const bit = s.reason ? 1 << REASONS.indexOf(s.reason) : 0;
    const range = (lo, hi) => [lo === "" ? -Infinity : Number(lo), hi === "" ? Infinity : Number(hi)];
    const [s0, s1] = range(s.smin, s.smax);
    const [j0, j1] = range(s.jmin, s.jmax);
    const [c0, c1] = range(s.cmin, s.cmax);
    const scoreIn = (v, lo, hi) => (lo === -Infinity && hi === Infinity) || (v >= lo && v <= hi);
    const out = [];
    for (let k = 1; k <= META.clusters; k++) {
      if (bit && !(f.mask[k] & bit)) continue;
      if (f.size[k] < s0 || f.size[k] > s1) continue;
      if (!scoreIn(f.minj[k], j0, j1) || !scoreIn(f.minc[k], c0, c1)) continue;
      out.push(k);
    }
    const values = s.sort === "number" ? null : f[s.sort];
    const sign = s.dir === "desc" ? -1 : 1;
    const value = (k) => (Number.isNaN(values[k]) ? sign * Infinity : values[k]);  // missing: last
    out.sort(values
      ? (a, b) => sign * (value(a) - value(b)) || a - b  // ties: cluster order
      : (a, b) => sign * (a - b));
    orderKey = key;
    order = out;
    return out;
  }

  function viewPages() {
    if (isPlain(state)) return META.pages;
    return Math.max(1, Math.ceil(order.length / META.viewSize));
  }

  async function rowsOf(numbers) {
    const wanted = new Map();
    for (const k of numbers) {
      const p = Math.ceil(k / META.pageSize);
      if (!wanted.has(p)) wanted.set(p, []);
      wanted.get(p).push(k);
    }
    const rows = new Map();
    const todo = [...wanted.keys()];
    for (let i = 0; i < todo.length; i += PARALLEL_LOADS) {
      await Promise.all(todo.slice(i, i + PARALLEL_LOADS).map(async (p) => {
        const page = await getPage(p);
        for (const k of wanted.get(p)) rows.set(k, page[(k - 1) % META.pageSize]);
      }));
    }
    return numbers.map((k) => rows.get(k)).filter(Boolean);
  }

  function describe(s) {
    const parts = [];
    if (s.reason) parts.push(`with ${s.reason} copies`);
    if (s.smin || s.smax) parts.push(`of ${s.smin || 2}–${s.smax || "∞"} documents`);
    if (s.jmin || s.jmax) parts.push(`lowest Jaccard ${s.jmin || 0}–${s.jmax || 1}`);
    if (s.cmin || s.cmax) parts.push(`lowest containment ${s.cmin || 0}–${s.cmax || 1}`);
    const order_ = `${SORT_NAMES[s.sort]}, ${s.dir === "desc" ? "descending" : "ascending"}`;
    return (parts.length ? parts.join(", ") + "; " : "") + `by ${order_}`;
  }

  function hashOf(s, page) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(s)) if (value !== defaults()[key]) params.set(key, value);
    params.set("page", page);
    return `#${params}`;
  }

  async function showPage(n) {
    const token = ++searchToken;
    writeForm(state);
    if (!isPlain(state)) await viewOrder(state);
    if (token !== searchToken) return;
    const total = viewPages();
    current = Math.min(Math.max(1, n | 0), total);
    $("pageno").value = current;
    $("pagecount").textContent = number(total);
    if (!keepAnchor) history.replaceState(null, "", hashOf(state, current));
    keepAnchor = false;
    if (isPlain(state)) {
      const rows = await getPage(current);
      if (token !== searchToken) return;
      const first = (current - 1) * META.pageSize + 1;
      show(rows, META.clusters
        ? `Clusters ${number(first)}–${number(first + rows.length - 1)} of ${number(META.clusters)}`
        : "No clusters: no copies were found.");
      return;
    }
    const start = (current - 1) * META.viewSize;
    const rows = await rowsOf(order.slice(start, start + META.viewSize));
    if (token !== searchToken) return;
    const what = describe(state);
    show(rows, order.length
      ? `Clusters ${number(start + 1)}–${number(start + rows.length)} of ` +
        `${count(order.length, "cluster")} shown (of ${number(META.clusters)}), ${what}`
      : `No cluster of ${number(META.clusters)} is ${what.replace(/; by .*/, "")}.`);
  }

  function setView(s, page) {
    state = s;
    showPage(page || 1);
  }

  // ------------------------------------------------------------------------------ search

  async function search(query) {
    const token = ++searchToken;
    const q = query.trim();
    if (!q) return showPage(current);
    history.replaceState(null, "", `#q=${encodeURIComponent(q)}`);
    const found = new Map();
    // An exact id: its shard names its cluster at once.
    idQuery = q;
    idHits = [];
    await load(`data/ids/${pad(crc32(q) % META.shards, 4)}.js`);
    idQuery = null;
    for (const k of idHits) {
      const rows = await getPage(Math.ceil(k / META.pageSize));
      found.set(k, rows[(k - 1) % META.pageSize]);
    }
    // Then part of an id, page by page (kept ids and the first removed ids of each cluster).
    const needle = q.toLowerCase();
    const matches = (id) => id.toLowerCase().includes(needle);
    for (let p = 1; p <= META.pages && found.size < MAX_RESULTS; p++) {
      if (token !== searchToken) return;
      for (const r of await getPage(p)) {
        if (!found.has(r[0]) && (matches(r[1]) || r[8].some(matches))) found.set(r[0], r);
      }
      if (p % 20 === 0) show([...found.values()], `Searching… page ${number(p)} of ${number(META.pages)}`);
    }
    if (token !== searchToken) return;
    const more = found.size >= MAX_RESULTS ? ` (the first ${number(MAX_RESULTS)})` : "";
    const verb = found.size === 1 ? "matches" : "match";
    show([...found.values()].sort((a, b) => a[0] - b[0]),
      `${count(found.size, "cluster")} ${verb} “${q}”${more}`);
  }

  // ------------------------------------------------------------------------------ controls

  const lastPage = () => viewPages();
  $("first").onclick = () => showPage(1);
  $("prev").onclick = () => showPage(current - 1);
  $("next").onclick = () => showPage(current + 1);
  $("last").onclick = () => showPage(lastPage());
  $("pageno").onchange = () => showPage(Number($("pageno").value));
  $("search").onsubmit = (event) => { event.preventDefault(); search($("q").value); };
  $("clear").onclick = () => { $("q").value = ""; showPage(current); };
  $("view").onsubmit = (event) => { event.preventDefault(); setView(readForm(), 1); };
  $("reset").onclick = () => setView(defaults(), 1);
  for (const button of document.querySelectorAll("button.sort")) {
    button.onclick = () => {
      const s = readForm();
      const key = button.dataset.sort;
      // Scores: the doubtful (lowest) first; sizes: the largest first; again: reversed.
      const first = key === "size" ? "desc" : "asc";
      s.dir = s.sort === key ? (s.dir === "asc" ? "desc" : "asc") : first;
      s.sort = key;
      setView(s, 1);
    };
  }

  function route() {  // #page=N, #q=TEXT, #sort=..&reason=..&page=N: links, bookmarks
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.has("q")) {
      $("q").value = hash.get("q");
      search(hash.get("q"));
      return;
    }
    const s = defaults();
    const keys = [...Object.keys(s), "page"];
    keepAnchor = ![...hash.keys()].some((key) => keys.includes(key));  // #near: an anchor
    for (const key of Object.keys(s)) if (hash.has(key)) s[key] = hash.get(key);
    if (!(s.sort in SORT_NAMES)) s.sort = "number";
    if (s.dir !== "desc") s.dir = "asc";
    if (s.reason && !REASONS.includes(s.reason)) s.reason = "";
    setView(s, Number(hash.get("page")) || 1);
  }
  window.onhashchange = route;  // a followed link or a typed URL (replaceState fires none)
  route();
})();
