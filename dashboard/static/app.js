// anbu dashboard: live updates, actions and charts. Plain JavaScript, no build step.
"use strict";
(() => {
  const body = document.body;
  const lang = body.dataset.lang || "ko";
  const page = body.dataset.page || "";
  const msg = JSON.parse(document.getElementById("anbu-i18n").textContent);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  // the server's clock (a simulated district may run on its own time)
  const offset = Date.parse(body.dataset.now) - Date.now();
  const now = () => Date.now() + offset;
  const fmt = (s, params) => s.replace(/\{(\w+)\}/g, (_, k) => (k in params ? params[k] : ""));
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // -- durations, as the server writes them (Babel on the server, Intl here) ---------------
  const unit = (u) => new Intl.NumberFormat(lang, { style: "unit", unit: u, unitDisplay: "short" });
  const units = { day: unit("day"), hour: unit("hour"), minute: unit("minute") };
  function duration(ms) {
    let minutes = Math.max(0, Math.floor(ms / 60000));
    const days = Math.floor(minutes / 1440);
    let hours = Math.floor((minutes % 1440) / 60);
    const mins = minutes % 60;
    const parts = [];
    if (days >= 2) {
      parts.push(units.day.format(days));
      if (hours) parts.push(units.hour.format(hours));
    } else {
      hours += days * 24;
      if (hours) parts.push(units.hour.format(hours));
      if (mins || !hours) parts.push(units.minute.format(mins));
    }
    return parts.join(" ");
  }
  function refreshTimes(root = document) {
    for (const el of $$("[data-ago]", root)) {
      const ts = el.dataset.ago;
      if (!ts) { el.textContent = msg["time.never"]; continue; }
      const ms = now() - Date.parse(ts);
      el.textContent = ms < 60000 ? msg["time.just_now"] : fmt(msg["time.ago"], { duration: duration(ms) });
    }
  }
  setInterval(refreshTimes, 30000);

  // -- talking to the API -----------------------------------------------------------------
  async function api(method, url, payload) {
    const res = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "same-origin",
    });
    if (!res.ok) {
      let detail = res.statusText;
      try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
      const err = new Error(detail);
      err.status = res.status;
      throw err;
    }
    return res.status === 204 ? null : res.json();
  }
  function toast(text) {
    const el = $("#toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, 3000);
  }

  const login = $("#login-form");
  if (login) {
    login.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(login);
      try {
        await api("POST", "/api/login", { username: data.get("username"), password: data.get("password") });
        location.assign(login.dataset.next || "/");
      } catch (e) {
        const box = $("#login-error");
        if (e.status === 429) box.textContent = e.message;  // locked for a while: say so
        box.hidden = false;
      }
    });
  }
  const logout = $("#logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try { await api("POST", "/api/logout"); } finally { location.assign("/login"); }
    });
  }

  // -- alert actions (queue, household page, field view) -----------------------------------
  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-action]");
    if (!button || button.tagName === "FORM") return;
    const box = button.closest(".actions");
    if (!box) return;
    const id = box.dataset.alert;
    const action = button.dataset.action;
    if (action === "resolve-start") { $(".outcomes", box).hidden = false; button.hidden = true; return; }
    if (action === "resolve-cancel") { $(".outcomes", box).hidden = true; $('[data-action="resolve-start"]', box).hidden = false; return; }
    button.disabled = true;
    try {
      if (action === "acknowledge") await api("POST", `/api/alerts/${id}/acknowledge`);
      if (action === "resolve") await api("POST", `/api/alerts/${id}/resolve`, { outcome: button.dataset.outcome });
      toast(msg["action.done"]);
      await refreshPage();
    } catch (e) {
      toast(`${msg["action.failed"]}: ${e.message}`);
      button.disabled = false;
    }
  });
  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (form.dataset.action === "note") {
      ev.preventDefault();
      const id = form.closest(".actions").dataset.alert;
      try {
        await api("POST", `/api/alerts/${id}/notes`, { text: form.elements.text.value });
        form.reset();
        toast(msg["action.done"]);
        await refreshPage();
      } catch (e) { toast(`${msg["action.failed"]}: ${e.message}`); }
    } else if (form.dataset.action === "handoff") {
      ev.preventDefault();
      const id = form.closest(".actions").dataset.alert;
      try {
        await api("POST", `/api/alerts/${id}/handoff`, { staff_id: form.elements.staff_id.value });
        toast(msg["action.done"]);
        await refreshPage();
      } catch (e) { toast(`${msg["action.failed"]}: ${e.message}`); }
    } else if (form.id === "away-form") {
      ev.preventDefault();
      const hh = $("#hh").dataset.household;
      const iso = (v) => (v ? new Date(v).toISOString() : null);
      try {
        await api("POST", `/api/households/${hh}/away`, {
          reason: form.elements.reason.value,
          starts_at: iso(form.elements.starts_at.value),
          ends_at: iso(form.elements.ends_at.value),
          note: form.elements.note.value,
        });
        location.reload();
      } catch (e) { toast(`${msg["action.failed"]}: ${e.message}`); }
    }
  });
  for (const b of $$("[data-end-away]")) {
    b.addEventListener("click", async () => {
      const hh = $("#hh").dataset.household;
      try { await api("POST", `/api/households/${hh}/away/${b.dataset.endAway}/end`); location.reload(); }
      catch (e) { toast(`${msg["action.failed"]}: ${e.message}`); }
    });
  }
  const awayStart = $('#away-form input[name="starts_at"]');
  if (awayStart && !awayStart.value) {
    const d = new Date(now());
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    awayStart.value = d.toISOString().slice(0, 16);
  }

  // -- live updates -------------------------------------------------------------------------
  // regions of the current page that a change re-renders in place (fetched, never reloaded)
  const REGIONS = { alerts: ["#queue-body"], field: ["#field-list"], household: ["#hh", "#alerts", "#away"] };
  // what the user is in the middle of (an outcome being chosen, a note being typed) survives
  function keepWork() {
    const open = $$(".actions").filter((b) => { const o = $(".outcomes", b); return o && !o.hidden; }).map((b) => b.dataset.alert);
    const typed = $$(".actions form.note").map((f) => [f.closest(".actions").dataset.alert, f.elements.text.value]).filter(([, v]) => v);
    const focused = document.activeElement && document.activeElement.closest(".actions");
    return () => {
      for (const id of open) {
        const b = $(`.actions[data-alert="${id}"]`);
        if (b && $(".outcomes", b)) { $(".outcomes", b).hidden = false; const s = $('[data-action="resolve-start"]', b); if (s) s.hidden = true; }
      }
      for (const [id, v] of typed) {
        const f = $(`.actions[data-alert="${id}"] form.note`);
        if (f) f.elements.text.value = v;
      }
      if (focused) { const f = $(`.actions[data-alert="${focused.dataset.alert}"] input`); if (f) f.focus(); }
    };
  }
  let pending = null;
  function refreshPage() {
    // changes come in bursts (an alert and its first notification): one fetch for a burst
    if (!pending) pending = new Promise((resolve) => setTimeout(() => { pending = null; resolve(reload()); }, 150));
    return pending;
  }
  async function reload() {
    if (page === "board") return refreshBoardAlerts();
    const ids = REGIONS[page] || [];
    if (!ids.length) return;
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const restore = keepWork();
    for (const sel of ids) {
      const fresh = $(sel, doc);
      const old = $(sel);
      if (fresh && old) { old.replaceWith(document.adoptNode(fresh)); }
    }
    restore();
    refreshTimes();
  }
  // the board's own short queue: just that table body, not the whole (large) board page
  async function refreshBoardAlerts() {
    const table = $("#board-alerts table");
    if (!table) return;
    const res = await fetch(`/alerts?fragment=1&limit=${table.dataset.limit}`, { credentials: "same-origin" });
    if (!res.ok) return;
    const restore = keepWork();
    const doc = new DOMParser().parseFromString(`<table>${await res.text()}</table>`, "text/html");
    const fresh = $("#queue-body", doc);
    if (fresh) $("#queue-body").replaceWith(document.adoptNode(fresh));
    restore();
    refreshTimes();
  }
  const filters = () => {
    const f = $("#filters");
    if (!f) return "";
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(f)) if (v) q.set(k, v);
    return q.toString();
  };
  async function refreshRow(householdId) {
    const res = await fetch(`/board/row/${encodeURIComponent(householdId)}?${filters()}`, { credentials: "same-origin" });
    const old = document.getElementById(`h-${householdId}`);
    if (res.status === 204 || res.status === 404) { if (old) old.remove(); recount(); return; }
    if (!res.ok) return;
    const tpl = document.createElement("template");
    tpl.innerHTML = (await res.text()).trim();
    const row = tpl.content.firstElementChild;
    const tbody = $("#board tbody");
    const empty = $("tr.empty", tbody);
    if (empty) empty.remove();
    if (old) old.replaceWith(row); else tbody.prepend(row);
    // the most urgent rows stay on top
    if (["danger", "alarm"].includes(row.dataset.state)) tbody.prepend(row);
    row.classList.add("flash");
    recount();
  }
  function recount() {
    const counts = {};
    for (const r of $$("#board tbody tr[data-state]")) counts[r.dataset.state] = (counts[r.dataset.state] || 0) + 1;
    counts.declining = $$("#board tbody tr[data-state] .trend-mark").length;
    for (const el of $$("[data-count]")) { const b = $("b", el); if (b) b.textContent = counts[el.dataset.count] || 0; }
  }

  // a short two-tone beep; browsers allow sound only after the user has touched the page
  let audio = null;
  document.addEventListener("pointerdown", () => {
    if (!audio) { try { audio = new AudioContext(); } catch (e) { audio = null; } }
    if (audio && audio.state === "suspended") audio.resume();
  });
  function beep() {
    if (!audio || audio.state !== "running") return;
    [0, 0.35].forEach((at, i) => {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = i ? 660 : 880;
      g.gain.value = 0.2;
      o.connect(g).connect(audio.destination);
      o.start(audio.currentTime + at);
      o.stop(audio.currentTime + at + 0.25);
    });
  }
  function banner(change) {
    const el = $("#banner");
    const link = $("#banner-link");
    const sev = change.severity;
    link.textContent = fmt(msg["banner.new"], {
      severity: msg[`severity.${sev}`] || sev,
      name: change.name || change.household_id,
      kind: msg[`kind.${change.kind}`] || change.kind,
    });
    link.href = `/households/${encodeURIComponent(change.household_id)}`;
    el.className = `banner s-${sev}`;
    el.dataset.household = change.household_id;
    el.hidden = false;
    beep();
  }
  const close = $("#banner-close");
  if (close) close.addEventListener("click", () => { $("#banner").hidden = true; });

  // last signs of life come with every reading, not as events: the board asks for the new
  // ones every minute (with a margin for readings that arrive late)
  if (page === "board") {
    let since = new Date(now() - 300000).toISOString();
    setInterval(async () => {
      const asked = new Date(now() - 300000).toISOString();
      try {
        const res = await fetch(`/board/signs?since=${encodeURIComponent(since)}`, { credentials: "same-origin" });
        if (!res.ok) return;
        const body = await res.json();
        for (const [id, ts] of Object.entries(body.signs)) {
          const el = document.querySelector(`#h-${CSS.escape(id)} [data-ago]`);
          if (el) el.dataset.ago = ts;
        }
        since = asked;
        refreshTimes();
      } catch (e) { /* offline: try again next minute */ }
    }, 60000);
  }
  const live = $("#live");
  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("hello", () => {
      live.hidden = false; live.className = "live"; live.textContent = msg["board.live"];
      body.dataset.live = "1";
    });
    source.addEventListener("board", async (ev) => {
      const change = JSON.parse(ev.data);
      if (change.raised && !change.suppressed && ["alarm", "danger"].includes(change.severity)) banner(change);
      if (page === "board") { await refreshRow(change.household_id); refreshPage(); }
      else if (page !== "household" || change.household_id === ($("#hh") || { dataset: {} }).dataset.household) await refreshPage();
    });
    source.addEventListener("resync", () => { if (page === "board") location.reload(); else refreshPage(); });
    source.onerror = () => {
      live.hidden = false; live.className = "live off"; live.textContent = msg["board.offline"];
      body.dataset.live = "0";
    };
  }
  if (page && page !== "login" && csrf) connect();

  // -- charts (household page) ----------------------------------------------------------------
  function charts() {
    const dataEl = document.getElementById("chart-data");
    if (!dataEl || !window.Plotly) return;
    const data = JSON.parse(dataEl.textContent);
    const L = JSON.parse(document.getElementById("chart-labels").textContent);
    const cfg = { displayModeBar: false, responsive: true, locale: lang };
    const empty = (id) => {
      const el = document.getElementById(id);
      el.classList.add("no-data");
      el.textContent = L.empty;
    };
    const margin = { l: 90, r: 10, t: 10, b: 40 };
    // plotly's month names are English; Korean dates need none (the wheel ships no locales)
    const dayTicks = lang === "ko" ? { tickformat: "%-m월 %-d일", hoverformat: "%-m월 %-d일 %H:%M" } : {};
    const timeTicks = lang === "ko" ? { tickformat: "%H:%M\n%-m월 %-d일", hoverformat: "%-m월 %-d일 %H:%M" } : {};
    const tl = data.timeline;
    if (!tl.t.length) empty("chart-timeline"); else Plotly.newPlot("chart-timeline", [{
      x: tl.t, y: tl.room, text: tl.kind, mode: "markers", type: "scatter",
      marker: { size: 9, opacity: 0.7, color: "#1f4fa8" }, hovertemplate: "%{x}<br>%{y}: %{text}<extra></extra>",
    }], { margin, yaxis: { type: "category" }, xaxis: { type: "date", ...timeTicks } }, cfg);
    const hm = data.heatmap;
    const any = hm.z.some((day) => day.some((n) => n > 0));
    if (!any) { empty("chart-heatmap"); empty("chart-today"); } else Plotly.newPlot("chart-heatmap", [{
      z: hm.z, x: Array.from({ length: 24 }, (_, h) => h), y: hm.days, type: "heatmap",
      colorscale: "Blues", reversescale: true, hovertemplate: "%{y} %{x}h: %{z}<extra></extra>", colorbar: { title: { text: L.signs } },
    }], { margin: { l: 90, r: 10, t: 10, b: 30 }, yaxis: { type: "category", autorange: "reversed" }, xaxis: { dtick: 2 } }, cfg);
    const hours = Array.from({ length: 24 }, (_, h) => h);
    if (any) Plotly.newPlot("chart-today", [
      { x: hours, y: hm.usual, name: L.usual, type: "scatter", mode: "lines", line: { color: "#67707a" } },
      { x: hours.slice(0, hm.hour_now + 1), y: hm.today.slice(0, hm.hour_now + 1), name: L.today, type: "bar", marker: { color: "#1f4fa8" } },
    ], { margin: { l: 40, r: 10, t: 10, b: 30 }, legend: { orientation: "h" }, xaxis: { dtick: 2 } }, cfg);
    if (!data.power.t.length) empty("chart-power"); else Plotly.newPlot("chart-power", [{ x: data.power.t, y: data.power.w, type: "scatter", mode: "lines", line: { color: "#e0530b" }, name: "W" }],
      { margin: { l: 50, r: 10, t: 10, b: 40 }, yaxis: { title: { text: "W" } }, xaxis: dayTicks }, cfg);
    // the weekly activity (a case-management view): signs of life a day as bars, active hours
    // a day as a line on its own axis, one point per week
    const tr = data.trend;
    if (document.getElementById("chart-trend")) {
      if (!tr.weeks.length) empty("chart-trend"); else Plotly.newPlot("chart-trend", [
        { x: tr.labels, y: tr.signs, name: L.trend_signs, type: "bar", marker: { color: "#8fa6c9" } },
        { x: tr.labels, y: tr.hours, name: L.trend_hours, type: "scatter", mode: "lines+markers", yaxis: "y2", line: { color: "#3d4a5c" } },
      ], { margin: { l: 50, r: 50, t: 10, b: 40 }, legend: { orientation: "h" }, xaxis: { type: "category" },
           yaxis: { title: { text: L.trend_signs }, rangemode: "tozero" },
           yaxis2: { title: { text: L.trend_hours }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, tickmode: "auto" } }, cfg);
    }
    const box = document.getElementById("chart-health");
    if (box) {
      for (const [name, m] of Object.entries(data.health)) {
        const div = document.createElement("div");
        div.className = "chart";
        div.id = `chart-health-${name}`;
        box.appendChild(div);
        const shapes = [];
        const [lo, hi] = m.clinical || [null, null];
        if (lo !== null || hi !== null) {
          shapes.push({ type: "rect", xref: "paper", x0: 0, x1: 1, y0: lo ?? Math.min(...m.v), y1: hi ?? Math.max(...m.v),
            fillcolor: "#2e7d32", opacity: 0.08, line: { width: 0 } });
        }
        if (m.own) {
          shapes.push({ type: "rect", xref: "paper", x0: 0, x1: 1, y0: m.own[0], y1: m.own[1], fillcolor: "#1f4fa8", opacity: 0.12, line: { width: 0 } });
        }
        Plotly.newPlot(div, [{ x: m.t, y: m.v, type: "scatter", mode: "lines+markers", name: L.metrics[name] || name }],
          { margin: { l: 50, r: 10, t: 30, b: 40 }, title: { text: `${L.metrics[name] || name} — ${L.own} / ${L.clinical}`, font: { size: 13 } }, shapes, xaxis: dayTicks }, cfg);
      }
    }
  }
  window.addEventListener("load", charts);
  refreshTimes();
})();
