// newsmon operations dashboard: renders /api/stats, live over server-sent events
// (/api/stats/stream), falling back to polling. Plain DOM, no dependencies. Article titles come
// from the agencies' feeds: they are only ever set as text, never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const token = new URLSearchParams(location.search).get("token");
const withToken = (path) => (token ? `${path}?token=${encodeURIComponent(token)}` : path);

function $(id) { return document.getElementById(id); }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function text(id, value) {
  const node = $(id);
  if (node.textContent !== String(value)) node.textContent = value;
}

function age(seconds) {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function fmt(n) { return Number.isInteger(n) ? String(n) : n.toFixed(1); }

// A small SVG chart: one series per entry of `series` ({values, cls}); bars or a line.
function chart(series, { bars = false, height = 90 } = {}) {
  const width = 600;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v || 0)));
  series.forEach((s, k) => {
    const n = s.values.length;
    const step = width / Math.max(1, n);
    if (bars) {
      const w = step / series.length;
      s.values.forEach((v, i) => {
        if (!v) return;
        const h = (v / max) * (height - 4);
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("x", i * step + k * w);
        rect.setAttribute("y", height - h);
        rect.setAttribute("width", Math.max(1, w - 1));
        rect.setAttribute("height", h);
        rect.setAttribute("style", `fill: ${s.color}`);
        svg.append(rect);
      });
    } else {
      const points = s.values
        .map((v, i) => (v == null ? null : `${i * step + step / 2},${height - 2 - (v / max) * (height - 6)}`))
        .filter(Boolean);
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("style", `stroke: ${s.color}`);
      line.setAttribute("stroke-width", "2");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      svg.append(line);
    }
  });
  return svg;
}

function renderQueues(stats) {
  const body = $("queues").querySelector("tbody");
  body.replaceChildren();
  for (const [name, q] of Object.entries(stats.queues)) {
    const hist = (stats.history.queues[name] || {}).depth || [];
    const row = el(
      "tr", { id: `queue-${name}`, class: q.oldest_age_seconds >= 60 ? "late" : "" },
      el("td", {}, name),
      el("td", { class: "num", id: `queue-${name}-depth` }, String(q.depth)),
      el("td", { class: "num", id: `queue-${name}-age` }, age(q.oldest_age_seconds)),
      el("td", { class: "num", id: `queue-${name}-peak` }, String(Math.max(0, ...hist.map((v) => v || 0)))),
      el("td", {}, el("div", { class: "chart" }, chart([{ values: hist, color: "var(--articles)" }], { bars: true, height: 32 }))),
    );
    body.append(row);
  }
}

function renderThroughput(stats) {
  const r = stats.rates_per_minute;
  text("fetched-per-minute", fmt(r.fetched));
  text("articles-per-minute", fmt(r.articles));
  text("alerts-per-minute", fmt(r.alerts));
  const h = stats.history;
  text("articles-hour", h.articles.reduce((a, b) => a + b, 0));
  text("alerts-hour", h.alerts.reduce((a, b) => a + b, 0));
  $("throughput-chart").replaceChildren(chart(
    [{ values: h.articles, color: "var(--articles)" }, { values: h.alerts, color: "var(--alerts)" }],
    { bars: true },
  ));
}

function renderLatency(stats) {
  const lat = stats.fetch_to_alert_seconds;
  for (const p of ["p50", "p95", "p99"]) text(`latency-${p}`, lat.samples ? `${lat[p]} s` : "–");
  text("latency-samples", lat.samples);
}

function renderWorkers(stats) {
  text("workers-alive", `${stats.workers.length} alive`);
  const list = $("workers");
  list.replaceChildren();
  for (const w of stats.worker_heartbeats) {
    list.append(el("li", { class: w.alive ? "alive" : "status-lost" },
      el("span", {}, w.name),
      el("span", { class: "muted" }, `${w.alive ? "alive" : "lost"} · beat ${age(w.last_seen_seconds)} ago`)));
  }
  if (!stats.worker_heartbeats.length) list.append(el("li", { class: "status-lost" }, "no worker is running"));
}

function renderFeeds(stats) {
  const list = $("feeds");
  list.replaceChildren();
  const entries = Object.entries(stats.feeds);
  for (const [status, n] of entries) {
    list.append(el("li", { class: `status-${status}`, id: `feeds-${status}` },
      el("span", {}, status), el("span", {}, String(n))));
  }
  if (!entries.length) list.append(el("li", { class: "muted" }, "no feeds scheduled"));
}

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch { return null; }
}

function renderAlerts(stats) {
  const box = $("latest-alerts");
  box.replaceChildren();
  const topics = new Set([...Object.keys(stats.topics), ...Object.keys(stats.latest_alerts)]);
  for (const topic of [...topics].sort()) {
    const items = stats.latest_alerts[topic] || [];
    const list = el("ol", {});
    for (const a of items) {
      const href = safeUrl(a.url);
      const title = href ? el("a", { href, rel: "noopener noreferrer", target: "_blank" }, a.title || a.url)
        : el("span", {}, a.title || a.url);
      list.append(el("li", {}, title,
        el("span", { class: "muted" }, `${a.created_at} · ${a.sources.join(", ") || a.source} · score ${a.score}`)));
    }
    if (!items.length) list.append(el("li", { class: "muted" }, "no alerts yet"));
    box.append(el("div", { id: `topic-${topic}` }, el("h3", {}, stats.topics[topic] || topic), list));
  }
}

function render(stats) {
  text("updated-at", stats.at);
  renderQueues(stats);
  renderThroughput(stats);
  renderLatency(stats);
  renderWorkers(stats);
  renderFeeds(stats);
  renderAlerts(stats);
}

function status(label, cls) {
  const badge = $("connection");
  badge.textContent = label;
  badge.className = `badge ${cls}`;
}

async function poll() {
  try {
    const response = await fetch(withToken("/api/stats"), { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
    status("polling", "live");
  } catch (err) {
    status(`offline: ${err.message}`, "down");
  }
  setTimeout(poll, 5000);
}

function stream() {
  if (!window.EventSource) { poll(); return; }
  const source = new EventSource(withToken("/api/stats/stream"));
  source.addEventListener("stats", (event) => { render(JSON.parse(event.data)); status("live", "live"); });
  source.onerror = () => status("reconnecting…", "down");
}

$("metrics-link").href = withToken("/metrics");
$("stats-link").href = withToken("/api/stats");
stream();
