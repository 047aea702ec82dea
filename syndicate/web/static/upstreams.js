// The upstream-feeds panel of /admin: self-contained; reads the token the page keeps in
// sessionStorage and shows GET /api/upstreams (last poll, counts, every problem's reason).
"use strict";
(() => {
  const KEY = "syndicate-api-token";
  const REFRESH_MS = 10000;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    for (const child of children) node.append(child); // text nodes only: no HTML injection
    return node;
  }

  function row(upstream) {
    const last = upstream.last_poll;
    const tr = el("tr", { "data-upstream": upstream.name });
    tr.append(el("td", {}, upstream.name, el("br"), el("small", {}, upstream.url || "")));
    if (!last) {
      tr.append(el("td", { colspan: "3" }, "never polled yet"));
      return tr;
    }
    const status = last.http_status === null ? "" : " · HTTP " + last.http_status;
    const when = el("td", {}, el("span", { class: "state state-" + (last.outcome === "error" ? "dead" : "sent") }, last.outcome),
                    status, el("br"), el("small", {}, last.at + " · " + last.conditional));
    if (last.error) when.append(el("span", { class: "err" }, last.error));
    const c = last.counts;
    const counts = el("td", { class: "counts" },
      `${c.seen} seen · ${c.created} created · ${c.updated} updated · ${c.unchanged} unchanged · ${c.rejected} rejected`);
    const problems = el("td", {});
    if (last.problems.length) {
      const list = el("ul", { class: "problems" });
      for (const p of last.problems) {
        list.append(el("li", { "data-kind": p.kind },
          `#${p.position} ${p.kind}: ${p.reason}` + (p.label ? ` (${p.label})` : "")));
      }
      problems.append(list);
    } else {
      problems.append("none");
    }
    for (const note of last.notes) problems.append(el("small", { class: "note" }, note), el("br"));
    tr.append(when, counts, problems);
    return tr;
  }

  async function refresh() {
    const section = document.getElementById("upstreams");
    const token = sessionStorage.getItem(KEY);
    if (!section || !token || document.getElementById("app").hidden) return;
    try {
      const response = await fetch("/api/upstreams", { headers: { "Authorization": "Bearer " + token } });
      if (!response.ok) throw new Error(response.statusText);
      const data = await response.json();
      section.hidden = data.upstreams.length === 0;
      section.querySelector("tbody").replaceChildren(...data.upstreams.map(row));
    } catch (error) {
      section.querySelector(".panel-error").textContent = "refresh failed: " + error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    document.getElementById("login").addEventListener("submit", () => setTimeout(refresh, 200));
    setInterval(refresh, REFRESH_MS);
  });
})();
