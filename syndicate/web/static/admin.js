// The operator page: the token lives in sessionStorage and travels only as a Bearer header.
"use strict";
const KEY = "syndicate-api-token";
const REFRESH_MS = 2000;
let timer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child); // strings become text nodes: no HTML injection
  return node;
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(KEY);
  const response = await fetch(path, {
    ...options,
    headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
  });
  if (response.status === 401) {
    signOut("That token was refused.");
    throw new Error("unauthorized");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function jobCell(job) {
  const cell = el("div", { class: "job", "data-network": job.network, "data-state": job.state });
  cell.append(el("span", { class: "state state-" + job.state }, job.state), " @" + job.account);
  if (job.permalink) cell.append(" ", el("a", { href: job.permalink, rel: "noopener noreferrer" }, "post"));
  for (const action of job.actions) {
    const button = el("button", { type: "button", "data-action": action }, action);
    button.addEventListener("click", () => act(job.id, action));
    cell.append(button);
  }
  if (job.last_error) cell.append(el("span", { class: "err" }, job.last_error));
  return cell;
}

function render(data) {
  const networks = [...new Set(data.articles.flatMap((a) => a.shares.map((s) => s.network)))].sort();
  const head = document.getElementById("head");
  head.replaceChildren(el("th", {}, "Article"), ...networks.map((n) => el("th", {}, n)));
  const rows = data.articles.map((article) => {
    const row = el("tr", { "data-article": article.id });
    row.append(el("td", {}, el("a", { href: article.url, rel: "noopener noreferrer" }, article.title),
                  el("br"), el("small", {}, article.id + " · " + article.status)));
    for (const network of networks) {
      const td = el("td", { "data-network": network });
      article.shares.filter((s) => s.network === network).forEach((s) => td.append(jobCell(s)));
      row.append(td);
    }
    return row;
  });
  document.querySelector("#articles tbody").replaceChildren(...rows);
  const alerts = data.alerts.map((a) => el("li", { "data-kind": a.kind }, a.message));
  document.getElementById("alerts").replaceChildren(...(alerts.length ? alerts : [el("li", { class: "none" }, "none")]));
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

async function refresh() {
  try {
    render(await api("/api/admin/overview"));
  } catch (error) {
    document.getElementById("updated").textContent = "refresh failed: " + error.message;
  }
}

async function act(id, action) {
  let body = {};
  if (action === "resolve") body = { posted: window.confirm("Is the post on the network? OK = yes, Cancel = no, send it") };
  try {
    await api(`/api/shares/${id}/${action}`, { method: "POST", body: JSON.stringify(body) });
  } catch (error) {
    window.alert(error.message);
  }
  refresh();
}

function signIn() {
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
  document.getElementById("logout").hidden = false;
  refresh();
  timer = window.setInterval(refresh, REFRESH_MS);
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY);
  if (timer) window.clearInterval(timer);
  document.getElementById("app").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message;
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("token");
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = "";
    signIn();
  });
  document.getElementById("logout").addEventListener("click", () => signOut());
  if (sessionStorage.getItem(KEY)) signIn();
});
