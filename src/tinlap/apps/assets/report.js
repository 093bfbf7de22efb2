/* tinlap report: the paginated, searchable cluster list of index.html.
 *
 * List pages (data/pages/NNNNNN.js) and id lookup shards (data/ids/NNNN.js) are scripts that
 * call TINLAP.page / TINLAP.ids: fetch() is blocked on file:// pages, <script src> is not, so
 * they are loaded on demand by adding a script tag. Only a few list pages are kept in memory.
 *
 * A list row is [number, kept id, size, exact, near, contained, lowest Jaccard,
 * lowest containment, [first removed ids], has a page of its own].
 */
"use strict";
(function () {
  const META = window.TINLAP_META;
  const MAX_RESULTS = 500;
  const CACHED_PAGES = 20;
  const pages = new Map();
  let idQuery = null;
  let idHits = [];
  let searchToken = 0;
  let current = 1;

  window.TINLAP = {
    page(n, rows) { pages.set(n, rows); },
    ids(entries) {
      for (const [id, number] of entries) if (id === idQuery) idHits.push(number);
    },
  };

  const $ = (id) => document.getElementById(id);
  const pad = (n, width) => String(n).padStart(width, "0");

  function load(src) {
    return new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = script.onerror = () => { script.remove(); resolve(); };
      document.head.append(script);
    });
  }

  async function getPage(n) {
    if (!pages.has(n)) {
      await load(`data/pages/${pad(n, 6)}.js`);
      while (pages.size > CACHED_PAGES) pages.delete(pages.keys().next().value);
    }
    return pages.get(n) || [];
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
    const [number, id, size, exact, near, contained, minJ, minC, removed, detail] = r;
    const name = detail
      ? el("a", { href: `clusters/${pad(number, 7)}.html`, className: "kept" }, id)
      : el("span", { className: "kept", title: "no page of its own: tinlap explain " +
          `${id} ${removed[0] || ""} --output-dir OUT` }, id);
    const others = size - 1 - removed.length;
    const members = el("div", { className: "members" },
      removed.join(" · ") + (others > 0 ? ` · … ${others.toLocaleString()} more` : ""));
    const reasons = el("td", {});
    for (const [label, n] of [["exact", exact], ["near", near], ["contained", contained]]) {
      if (n) reasons.append(el("span", { className: `badge ${label}` }, `${label} ${n}`), " ");
    }
    return el("tr", {},
      el("td", { className: "num" }, String(number)),
      el("td", {}, name, members),
      el("td", { className: "num" }, size.toLocaleString()),
      reasons,
      el("td", { className: "num" }, score(minJ)),
      el("td", { className: "num" }, score(minC)));
  }

  function show(rows, status) {
    $("rows").replaceChildren(...rows.map(rowElement));
    $("status").textContent = status;
  }

  async function showPage(n) {
    searchToken++;
    current = Math.min(Math.max(1, n | 0), META.pages);
    $("pageno").value = current;
    history.replaceState(null, "", `#page=${current}`);
    const rows = await getPage(current);
    const first = (current - 1) * META.pageSize + 1;
    show(rows, META.clusters
      ? `Clusters ${first.toLocaleString()}–${(first + rows.length - 1).toLocaleString()} ` +
        `of ${META.clusters.toLocaleString()}`
      : "No clusters: no copies were found.");
  }

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
    for (const number of idHits) {
      const rows = await getPage(Math.ceil(number / META.pageSize));
      found.set(number, rows[(number - 1) % META.pageSize]);
    }
    // Then part of an id, page by page (kept ids and the first removed ids of each cluster).
    const needle = q.toLowerCase();
    const matches = (id) => id.toLowerCase().includes(needle);
    for (let p = 1; p <= META.pages && found.size < MAX_RESULTS; p++) {
      if (token !== searchToken) return;
      for (const r of await getPage(p)) {
        if (!found.has(r[0]) && (matches(r[1]) || r[8].some(matches))) found.set(r[0], r);
      }
      if (p % 20 === 0) show([...found.values()], `Searching… page ${p} of ${META.pages}`);
    }
    if (token !== searchToken) return;
    const more = found.size >= MAX_RESULTS ? ` (the first ${MAX_RESULTS})` : "";
    show([...found.values()].sort((a, b) => a[0] - b[0]),
      `${found.size.toLocaleString()} clusters match “${q}”${more}`);
  }

  $("first").onclick = () => showPage(1);
  $("prev").onclick = () => showPage(current - 1);
  $("next").onclick = () => showPage(current + 1);
  $("last").onclick = () => showPage(META.pages);
  $("pageno").onchange = () => showPage(Number($("pageno").value));
  $("search").onsubmit = (event) => { event.preventDefault(); search($("q").value); };
  $("clear").onclick = () => { $("q").value = ""; showPage(current); };

  function route() {  // #page=N or #q=TEXT: links from cluster pages, bookmarks
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.has("q")) {
      $("q").value = hash.get("q");
      search(hash.get("q"));
    } else {
      showPage(Number(hash.get("page")) || 1);
    }
  }
  window.onhashchange = route;
  route();
})();
