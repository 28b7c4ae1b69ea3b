// The situation map: sites by threat level and incidents by type and recency, clustered when
// dense, filtered in the browser. Timings go to performance marks ("map-interactive", "filter").
import Supercluster from "supercluster";
import { drawBasemap, fitCanvas, projection } from "./basemap.js";

export const LEVEL_COLOURS = { 1: "#3c8d5a", 2: "#c9a227", 3: "#e07b24", 4: "#c8312b", 5: "#6d1a4f" };
export const TYPE_COLOURS = {
  assassination: "#e7298a", armed_assault: "#b2182b", bombing: "#d6604d", kidnapping: "#7b3294",
  hostage_taking: "#c2a5cf", hijacking: "#2166ac", arson: "#f4a582", unarmed_assault: "#92c5de",
  vehicle_ramming: "#4393c3", threat: "#878787", unrest: "#bababa", other: "#4d4d4d",
};
const DAY_MS = 86400000;
const RECENT_DAYS = 7;
const HIT_PX = 9;
// The inhabited world, without most of Antarctica (which Mercator would blow up).
const WORLD = { type: "MultiPoint", coordinates: [[-180, -56], [180, 76]] };
const OWN_MARK_LEVEL = 4; // sites at this level or above are never hidden in a cluster

function plural(n, word) {
  return `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
}

function parseDay(text) {
  return text ? Date.parse(text + "T00:00:00Z") : NaN;
}

function features(data) {
  const out = [];
  const s = data.sites;
  for (let i = 0; i < s.key.length; i++) {
    out.push({ type: "Feature", geometry: { type: "Point", coordinates: [s.lon[i], s.lat[i]] },
      properties: { kind: "site", i, level: s.level[i], country: s.country[i] } });
  }
  const n = data.incidents;
  for (let i = 0; i < n.id.length; i++) {
    out.push({ type: "Feature", geometry: { type: "Point", coordinates: [n.lon[i], n.lat[i]] },
      properties: { kind: "incident", i, type: n.type[i], day: parseDay(n.date[i]), country: n.country[i] } });
  }
  return out;
}

// Days since an incident: a date up to a day ahead of the data's "as of" day (time zones, late
// clocks) counts as today; one further ahead is an error in the data and never "recent" (null).
export function ageOf(day, asOf) {
  const age = asOf - day;
  if (!(age >= -DAY_MS)) return null;
  return Math.max(0, age);
}

function isRecent(day, asOf) {
  const age = ageOf(day, asOf);
  return age !== null && age <= RECENT_DAYS * DAY_MS;
}

function clusterIndex(points, asOf) {
  const index = new Supercluster({
    radius: 32,
    maxZoom: 12,
    map: (p) => ({
      sites: p.kind === "site" ? 1 : 0,
      incidents: p.kind === "incident" ? 1 : 0,
      maxLevel: p.kind === "site" ? p.level : 0,
      recent: p.kind === "incident" && isRecent(p.day, asOf) ? 1 : 0,
    }),
    reduce: (a, b) => {
      a.sites += b.sites;
      a.incidents += b.incidents;
      a.maxLevel = Math.max(a.maxLevel, b.maxLevel);
      a.recent += b.recent;
    },
  });
  return index.load(points);
}

export function startMap(box) {
  const canvas = box.querySelector("canvas");
  const tip = document.getElementById("map-tip");
  const status = document.getElementById("map-status");
  const form = document.getElementById("filters");
  const state = { data: null, all: [], index: null, drawn: [], asOf: 0, proj: projection(), base: null, size: null };
  const api = { state, findSite, filters: readFilters, timings: {} };
  window.legationMap = api;

  function resetView() {
    const { width, height } = state.size;
    state.proj = projection().fitExtent([[8, 8], [width - 8, height - 8]], WORLD);
    state.base = state.proj.scale();
  }

  function readFilters() {
    const get = (name) => form.elements[name].value;
    return { window: Number(get("window")), type: get("type"), country: get("country"), level: Number(get("level")) };
  }

  function keep(f, p) {
    if (f.country && p.country !== f.country) return false;
    if (p.kind === "site") return p.level >= f.level;
    if (f.type && p.type !== f.type) return false;
    if (!f.window) return true;
    const age = ageOf(p.day, state.asOf);
    return age !== null && age <= f.window * DAY_MS;
  }

  function applyFilters() {
    const f = readFilters();
    const chosen = state.all.filter((feature) => keep(f, feature.properties));
    const own = (p) => p.kind === "site" && p.level >= OWN_MARK_LEVEL;
    state.own = chosen.filter((x) => own(x.properties));
    state.index = clusterIndex(chosen.filter((x) => !own(x.properties)), state.asOf);
    state.counts = {
      sites: chosen.filter((x) => x.properties.kind === "site").length,
      incidents: chosen.filter((x) => x.properties.kind === "incident").length,
    };
    if (f.country) fitTo(chosen);
  }

  // Fit the view to the chosen points, but no closer than a country's width (the outlines are
  // drawn at 1:110 million and would say nothing at street level).
  const MAX_FIT = 12;
  // One point, or several at one place, has no extent: d3 would fit it at an infinite scale
  // (and NaN positions), so such a choice is centred at the closest zoom instead.
  function fitTo(chosen) {
    if (!chosen.length) return;
    const collection = { type: "FeatureCollection", features: chosen };
    const { width, height } = state.size;
    const fitted = projection().fitExtent([[40, 40], [width - 40, height - 40]], collection);
    const finite = [fitted.scale(), ...fitted.translate()].every(Number.isFinite);
    if (finite && fitted.scale() <= state.base * MAX_FIT) {
      state.proj = fitted;
      return;
    }
    const lons = chosen.map((x) => x.geometry.coordinates[0]);
    const lats = chosen.map((x) => x.geometry.coordinates[1]);
    const middle = [(Math.min(...lons) + Math.max(...lons)) / 2, (Math.min(...lats) + Math.max(...lats)) / 2];
    state.proj = projection().scale(state.base * MAX_FIT).center(middle).translate([width / 2, height / 2]);
  }

  // Supercluster measures its radius in a 512-unit tile: the zoom whose world is at least as
  // wide as ours keeps clusters between half and all of that radius on screen. Never NaN or
  // infinite (supercluster would index a missing tree).
  function zoomLevel() {
    const z = Math.ceil(Math.log2((2 * Math.PI * state.proj.scale()) / 512));
    return Number.isFinite(z) ? Math.max(0, Math.min(16, z)) : 0;
  }

  function draw() {
    const { ctx, width, height } = fitCanvas(canvas);
    drawBasemap(ctx, state.proj, width, height);
    drawTiles(ctx, width, height);
    const west = state.proj.invert([0, height]);
    const east = state.proj.invert([width, 0]);
    // Longitudes unclamped: supercluster takes a span of 360 or more as the whole world and a
    // west edge east of the east edge as a view across the antimeridian.
    // (d3's invert wraps longitudes into -180..180, so they come from the linear transform.)
    const [tx] = state.proj.translate();
    const lonAt = (x) => state.proj.center()[0] + ((x - tx) / state.proj.scale()) * (180 / Math.PI);
    const bbox = [lonAt(0), Math.max(-85, west[1]), lonAt(width), Math.min(85, east[1])];
    const items = state.index.getClusters(bbox, zoomLevel()).concat(state.own);
    // Incidents first, then sites by level, clusters on top: the worst is the most visible.
    items.sort((a, b) => rank(a) - rank(b));
    state.drawn = [];
    for (const item of items) {
      const [x, y] = state.proj(item.geometry.coordinates);
      if (x < -20 || y < -20 || x > width + 20 || y > height + 20) continue;
      const r = drawItem(ctx, item, x, y);
      state.drawn.push({ item, x, y, r });
    }
    if (document.activeElement === canvas) drawCrosshair(ctx, width, height);
    const c = state.counts;
    status.textContent = `${plural(c.sites, "site")} and ${plural(c.incidents, "incident")} match the filters; ${plural(state.drawn.length, "mark")} on the map.`;
  }

  // Keyboard use: while the map has focus a crosshair marks its centre; Enter opens the mark
  // under it (the arrow keys bring one there).
  const CROSS_PX = 16;
  function drawCrosshair(ctx, width, height) {
    const x = width / 2;
    const y = height / 2;
    ctx.strokeStyle = "#17263d";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x - CROSS_PX, y); ctx.lineTo(x - 4, y); ctx.moveTo(x + 4, y); ctx.lineTo(x + CROSS_PX, y);
    ctx.moveTo(x, y - CROSS_PX); ctx.lineTo(x, y - 4); ctx.moveTo(x, y + 4); ctx.lineTo(x, y + CROSS_PX);
    ctx.stroke();
    const found = centreMark();
    tip.hidden = !found;
    if (found) {
      tip.textContent = `${describe(found.item)} Press Enter to open.`;
      tip.style.left = `${Math.min(x + 12, width - 200)}px`;
      tip.style.top = `${y + 12}px`;
    }
  }

  function centreMark() {
    const { width, height } = state.size;
    let best = null;
    let bestD = Infinity;
    for (const d of state.drawn) {
      const dist = Math.hypot(d.x - width / 2, d.y - height / 2);
      if (dist <= Math.max(d.r, CROSS_PX) && dist < bestD) { best = d; bestD = dist; }
    }
    return best;
  }

  // Drawing order: clusters, single sites by level, and incidents last: an incident's small
  // diamond stays visible on top of the site it happened at.
  function rank(item) {
    const p = item.properties;
    if (p.cluster) return p.maxLevel;
    if (p.kind === "incident") return 200;
    return 10 + p.level;
  }

  function drawItem(ctx, item, x, y) {
    const p = item.properties;
    if (p.cluster) {
      const r = 7 + Math.min(9, Math.log2(p.point_count) * 1.3);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = p.maxLevel ? LEVEL_COLOURS[p.maxLevel] : "#4a6fa5";
      ctx.globalAlpha = 0.88;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.lineWidth = p.recent ? 3 : 1.5;
      ctx.strokeStyle = p.recent ? "#111" : "#fff";
      ctx.stroke();
      ctx.fillStyle = p.maxLevel === 2 || p.maxLevel === 3 ? "#1c2330" : "#fff";
      ctx.font = "600 10px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(String(p.point_count_abbreviated), x, y);
      return r;
    }
    if (p.kind === "site") {
      const r = 3 + p.level * 1.2;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = LEVEL_COLOURS[p.level];
      ctx.fill();
      ctx.lineWidth = 1.2;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
      return r;
    }
    const recent = isRecent(p.day, state.asOf);
    const r = recent ? 6 : 4.5;
    ctx.beginPath();
    ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath();
    ctx.globalAlpha = recent ? 1 : 0.55;
    ctx.fillStyle = TYPE_COLOURS[p.type] || "#4d4d4d";
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.lineWidth = recent ? 2 : 1;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    return r;
  }

  // Optional tiles (only when the server names a tile URL): Web Mercator tiles under the marks.
  const tiles = new Map();
  function drawTiles(ctx, width, height) {
    const template = box.dataset.tiles;
    if (!template) return;
    const z = Math.max(0, Math.min(18, Math.round(Math.log2((2 * Math.PI * state.proj.scale()) / 256))));
    const size = (2 * Math.PI * state.proj.scale()) / 2 ** z;
    const [x0, y0] = state.proj([-180, 85.0511287798]);
    const n = 2 ** z;
    for (let tx = Math.max(0, Math.floor(-x0 / size)); tx < Math.min(n, Math.ceil((width - x0) / size)); tx++) {
      for (let ty = Math.max(0, Math.floor(-y0 / size)); ty < Math.min(n, Math.ceil((height - y0) / size)); ty++) {
        // {s}: one of the a, b, c subdomains, the same one for a tile every time (cached).
        const sub = "abc"[(tx + ty) % 3];
        const url = template.replace("{s}", sub).replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
        let image = tiles.get(url);
        if (!image) {
          image = new Image();
          image.onload = () => window.requestAnimationFrame(draw);
          image.src = url;
          tiles.set(url, image);
        }
        if (image.complete && image.naturalWidth) ctx.drawImage(image, x0 + tx * size, y0 + ty * size, size, size);
      }
    }
  }

  function hit(px, py) {
    let best = null;
    let bestD = Infinity;
    for (const d of state.drawn) {
      const dist = Math.hypot(d.x - px, d.y - py);
      if (dist <= Math.max(d.r, HIT_PX) && dist < bestD) { best = d; bestD = dist; }
    }
    return best;
  }

  function describe(item) {
    const p = item.properties;
    const s = state.data.sites;
    const n = state.data.incidents;
    if (p.cluster) {
      const level = p.maxLevel ? `; highest site level ${p.maxLevel}` : "";
      return `${p.sites} sites and ${p.incidents} incidents${level}. Click to zoom in.`;
    }
    if (p.kind === "site") return `${s.name[p.i]} — level ${p.level}.`;
    const option = [...form.elements.type.options].find((o) => o.value === n.type[p.i]);
    const type = option ? option.textContent : n.type[p.i];
    return `${type} in ${n.place[p.i] || "?"}, ${n.date[p.i] || "date unknown"}.`;
  }

  function open(found) {
    const p = found.item.properties;
    if (p.cluster) {
      const zoom = state.index.getClusterExpansionZoom(p.cluster_id);
      zoomAt(found.x, found.y, 2 ** zoom * 256 / (2 * Math.PI * state.proj.scale()));
      return;
    }
    const href = p.kind === "site"
      ? "/sites/" + encodeURIComponent(state.data.sites.key[p.i])
      : "/incidents/" + state.data.incidents.id[p.i];
    window.location.assign(href);
  }

  function zoomAt(x, y, factor) {
    const scale = Math.max(state.base * 0.8, Math.min(state.base * 4000, state.proj.scale() * factor));
    const real = scale / state.proj.scale();
    const [tx, ty] = state.proj.translate();
    state.proj.scale(scale).translate([x - (x - tx) * real, y - (y - ty) * real]);
    draw();
  }

  function pan(dx, dy) {
    const [tx, ty] = state.proj.translate();
    state.proj.translate([tx + dx, ty + dy]);
    draw();
  }

  function findSite(key) {
    const i = state.data.sites.key.indexOf(key);
    if (i < 0) return null;
    for (const d of state.drawn) {
      const p = d.item.properties;
      if (!p.cluster && p.kind === "site" && p.i === i) return { level: p.level, clustered: false };
      if (p.cluster && p.sites) {
        const leaves = state.index.getLeaves(p.cluster_id, Infinity);
        if (leaves.some((l) => l.properties.kind === "site" && l.properties.i === i)) {
          return { level: state.data.sites.level[i], clustered: true, clusterLevel: p.maxLevel };
        }
      }
    }
    return null;
  }

  function bind() {
    let drag = null;
    canvas.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", (e) => {
      const rect = canvas.getBoundingClientRect();
      if (drag) {
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
          drag.moved = true;
          drag.x = e.clientX;
          drag.y = e.clientY;
          pan(dx, dy);
        }
        return;
      }
      const found = hit(e.clientX - rect.left, e.clientY - rect.top);
      tip.hidden = !found;
      canvas.style.cursor = found ? "pointer" : "grab";
      if (found) {
        tip.textContent = describe(found.item);
        tip.style.left = `${Math.min(found.x + 12, rect.width - 200)}px`;
        tip.style.top = `${found.y + 12}px`;
      }
    });
    canvas.addEventListener("pointerup", (e) => {
      const rect = canvas.getBoundingClientRect();
      const wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) return;
      const found = hit(e.clientX - rect.left, e.clientY - rect.top);
      if (found) open(found);
    });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      zoomAt(e.clientX - rect.left, e.clientY - rect.top, e.deltaY < 0 ? 1.5 : 1 / 1.5);
    }, { passive: false });
    canvas.addEventListener("keydown", (e) => {
      const { width, height } = state.size;
      const moves = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
      if (moves[e.key]) { pan(...moves[e.key]); e.preventDefault(); }
      else if (e.key === "+" || e.key === "=") { zoomAt(width / 2, height / 2, 1.5); e.preventDefault(); }
      else if (e.key === "-") { zoomAt(width / 2, height / 2, 1 / 1.5); e.preventDefault(); }
      else if (e.key === "Enter") {
        const found = centreMark();
        if (found) { open(found); e.preventDefault(); }
      }
    });
    document.getElementById("zoom-in").addEventListener("click", () => zoomAt(state.size.width / 2, state.size.height / 2, 1.5));
    document.getElementById("zoom-out").addEventListener("click", () => zoomAt(state.size.width / 2, state.size.height / 2, 1 / 1.5));
    document.getElementById("zoom-reset").addEventListener("click", () => { resetView(); draw(); });
    form.addEventListener("change", () => {
      performance.mark("filter-start");
      applyFilters();
      draw();
      performance.mark("filter-end");
      const m = performance.measure("filter", "filter-start", "filter-end");
      api.timings.lastFilterMs = m.duration;
    });
    form.addEventListener("submit", (e) => e.preventDefault());
    canvas.addEventListener("focus", draw);
    canvas.addEventListener("blur", () => { tip.hidden = true; draw(); });
    window.addEventListener("resize", () => {
      const before = state.size;
      state.size = canvas.getBoundingClientRect();
      if (before.width === state.size.width && before.height === state.size.height) return;
      resetView();
      if (readFilters().country) applyFilters();
      draw();
    });
  }

  function typeLegend() {
    const list = document.getElementById("type-legend");
    if (!list) return;
    for (const option of form.elements.type.options) {
      if (!option.value) continue;
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch incident";
      swatch.style.background = TYPE_COLOURS[option.value] || "#4d4d4d";
      item.append(swatch, document.createTextNode(option.textContent));
      list.append(item);
    }
  }

  async function load() {
    const answer = await fetch(box.dataset.source, { credentials: "same-origin", cache: "no-store" });
    if (answer.status === 401) {
      window.location.assign("/login?next=/map");
      return;
    }
    if (!answer.ok) throw new Error(`the map data answered ${answer.status}`);
    state.data = await answer.json();
    performance.mark("map-data");
    state.asOf = parseDay(state.data.as_of);
    state.all = features(state.data);
    state.size = canvas.getBoundingClientRect();
    resetView();
    applyFilters();
    performance.mark("map-index");
    draw();
    bind();
    typeLegend();
    performance.mark("map-interactive");
    api.ready = true;
    box.dataset.ready = "true";
  }

  load().catch((error) => {
    status.textContent = `The map could not be loaded: ${error.message}`;
  });
}
