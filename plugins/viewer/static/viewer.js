// sheetsync viewer: draws the pages the server chooses and the followed position, sends key presses back.
// Everything arrives by server-sent events (session, view, position, end); nothing is polled.
"use strict";

const $ = (id) => document.getElementById(id);
const LOW_CONFIDENCE = 0.3;
const KEYS = {
  ArrowRight: "next", ArrowDown: "next", PageDown: "next", " ": "next",
  ArrowLeft: "previous", ArrowUp: "previous", PageUp: "previous",
  r: "resync", R: "resync", Home: "restart", Escape: "follow", f: "follow", F: "follow",
};

let session = null;     // the score: pages with sizes and system boxes
let view = null;        // {pages: [...], manual}
let position = null;    // the latest followed position
let figures = {};       // page number -> <figure>, made once per session
let typed = "";         // digits typed before Enter
let ended = false;

const marker = document.createElement("div");
marker.id = "marker";
const band = document.createElement("div");
band.id = "band";

function makeFigures() {
  figures = {};
  for (const page of session.pages) {
    const figure = document.createElement("figure");
    figure.className = "page";
    figure.dataset.page = page.number;
    const image = document.createElement("img");
    image.alt = `page ${page.number}`;
    if (page.image) image.src = page.image;  // every page loads at once, so a turn never waits
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = page.number;
    figure.append(image, number);
    figures[page.number] = figure;
  }
  $("title").textContent = session.title || "sheetsync";
  $("page-count").textContent = session.pages.length;
}

function renderView() {
  if (!session || !view) return;
  const shown = view.pages.filter((n) => figures[n]);
  $("pages").replaceChildren(...shown.map((n) => figures[n]));
  for (const n of shown) figures[n].classList.toggle("upcoming", shown.length > 1 && n !== shown[0]);
  layout();
  renderPosition();
  renderState();
}

function layout() {
  // Fit the shown pages side by side in the free area, keeping each page's proportions.
  const area = $("pages");
  const shown = Array.from(area.children);
  if (!shown.length) return;
  const sizes = shown.map((f) => session.pages[Number(f.dataset.page) - 1]);
  const gap = 10 * (shown.length - 1);
  const width = area.clientWidth - 12 - gap;
  const height = area.clientHeight - 12;
  const scale = Math.min(height / Math.max(...sizes.map((p) => p.height)),
                         width / sizes.reduce((sum, p) => sum + p.width, 0));
  shown.forEach((figure, i) => {
    figure.style.width = `${Math.floor(sizes[i].width * scale)}px`;
    figure.style.height = `${Math.floor(sizes[i].height * scale)}px`;
  });
}

function renderPosition() {
  if (!session || !position) return;
  const p = position;
  $("page-number").textContent = p.page;
  const measure = p.measure != null ? p.measure : p.measure_position != null ? Math.floor(p.measure_position) : null;
  $("measure").textContent = measure == null ? "–" : measure;
  $("tempo").textContent = p.tempo == null ? "–" : p.tempo.toFixed(0);
  $("tempo-unit").hidden = p.tempo == null;
  const confidence = p.confidence == null ? 0 : p.confidence;
  $("confidence").textContent = confidence.toFixed(2);
  $("confidence-fill").style.width = `${Math.round(confidence * 100)}%`;
  $("confidence-fill").classList.toggle("low", confidence < LOW_CONFIDENCE);

  const figure = figures[p.page];
  if (!figure || !figure.isConnected) {  // the follower is on a page not shown: no marker
    marker.remove();
    band.remove();
    return;
  }
  const page = session.pages[p.page - 1];
  const box = page.systems[p.system - 1];
  const [top, bottom] = box ? [box[1] / page.height, box[3] / page.height] : [p.y - 0.05, p.y + 0.05];
  const pad = 0.012;
  band.style.top = marker.style.top = `${((top - pad) * 100).toFixed(2)}%`;
  band.style.height = marker.style.height = `${((bottom - top + 2 * pad) * 100).toFixed(2)}%`;
  marker.style.left = `${(p.x * 100).toFixed(2)}%`;
  marker.style.opacity = (0.35 + 0.65 * confidence).toFixed(2);
  marker.classList.toggle("low", confidence < LOW_CONFIDENCE);
  if (marker.parentNode !== figure) figure.append(band, marker);
}

function renderState(text) {
  const state = $("state");
  const name = text || (ended ? "ended" : view && view.manual ? "manual" : "following");
  state.className = `state ${name.split(":")[0]}`;
  state.textContent = name === "manual" ? "turned by hand (Esc: follow)" : name;
}

function send(action, extra = {}) {
  fetch("/action", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ action, ...extra }),
  }).then(async (reply) => {
    if (!reply.ok) renderState(`refused: ${(await reply.json()).error}`);
  }).catch(() => renderState("offline"));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (/^[0-9]$/.test(event.key)) {
    typed = (typed + event.key).slice(-4);
  } else if (event.key === "Enter" && typed) {
    send("page", { page: Number(typed) });
    typed = "";
  } else if (KEYS[event.key]) {
    send(KEYS[event.key]);
    typed = "";
  } else {
    return;
  }
  $("typed").textContent = typed ? `page ${typed}…` : "";
  event.preventDefault();
});

// Tapping the right or left third of the pages turns (tablets on a music stand).
$("pages").addEventListener("click", (event) => {
  const third = window.innerWidth / 3;
  if (event.clientX > 2 * third) send("next");
  else if (event.clientX < third) send("previous");
});

window.addEventListener("resize", layout);

const events = new EventSource("/events");
events.addEventListener("session", (event) => {
  const next = JSON.parse(event.data);
  if (session && session.id === next.id) return;
  session = next;
  ended = false;
  makeFigures();
  renderView();
});
events.addEventListener("view", (event) => {
  view = JSON.parse(event.data);
  renderView();
});
events.addEventListener("position", (event) => {
  position = JSON.parse(event.data);
  renderPosition();
});
events.addEventListener("end", (event) => {
  ended = true;
  events.close();  // the server is gone after this: do not retry
  renderState(`ended: ${JSON.parse(event.data).reason}`);
});
events.onopen = () => renderState();
events.onerror = () => { if (!ended) renderState("offline"); };
