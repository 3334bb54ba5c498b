// fibroskin interactive scatter plot: one self-contained page, no server, no library.
// Reads the figure spec from <script id="fibroskin-spec">, unpacks the gzipped columns with the
// browser's own DecompressionStream, draws every point on a canvas, and answers hovering
// (nearest point within a few pixels, through a grid of screen positions), gene search and
// drag-to-zoom. window.fibroskinFigure exposes the same lookups for tests.
"use strict";
(function () {
  const spec = JSON.parse(document.getElementById("fibroskin-spec").textContent);
  const canvas = document.getElementById("plot-canvas");
  const tooltip = document.getElementById("tooltip");
  const searchBox = document.getElementById("search");
  const searchStatus = document.getElementById("search-status");
  const context = canvas.getContext("2d");
  const margin = { left: 64, right: 18, top: 14, bottom: 48 };
  const HOVER_RADIUS = 6;
  const CELL = 12;
  let columns = null, n = 0, x = null, y = null, classes = null;
  let view = null, full = null, grid = null, screenX = null, screenY = null;
  let selected = -1, hovered = -1, drag = null;

  async function unpack(payload) {
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const text = await new Response(stream).text();
    const parsed = JSON.parse(text);
    const out = {};
    for (const name of Object.keys(parsed)) out[name] = parsed[name] === "" ? [] : parsed[name].split("\n");
    return out;
  }

  function transform(values, axis) {
    const how = axis.transform, floor = axis.floor ? parseFloat(axis.floor) : 0;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      let v = values[i] === "" || values[i] === "NA" ? NaN : parseFloat(values[i]);
      // p-values that underflowed to 0 are drawn at the smallest positive one
      if (how === "neglog10" && floor > 0 && v < floor) v = floor;
      out[i] = how === "log10" ? Math.log10(v) : how === "neglog10" ? -Math.log10(v) : v;
    }
    return out;
  }

  function extent(values) {
    let low = Infinity, high = -Infinity;
    for (const v of values) if (Number.isFinite(v)) { if (v < low) low = v; if (v > high) high = v; }
    if (!Number.isFinite(low)) return [0, 1];
    if (low === high) return [low - 1, high + 1];
    const pad = (high - low) * 0.05;
    return [low - pad, high + pad];
  }

  function niceTicks(low, high, count) {
    const step0 = (high - low) / count;
    const power = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= step0);
    const ticks = [];
    for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return { ticks, step };
  }

  const SUPERSCRIPT = { "0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074", "5": "\u2075",
    "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079", "-": "\u207b" };

  function tickLabel(value, step, log) {
    if (log) {
      const v = Math.pow(10, value);
      if (v >= 1e4 || v < 1e-2) return "10" + String(Math.round(value)).replace(/[-0-9]/g, (c) => SUPERSCRIPT[c]);
      return String(+v.toPrecision(3));
    }
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return value.toFixed(decimals);
  }

  function plotBox() {
    return { x0: margin.left, y0: margin.top, x1: canvas.clientWidth - margin.right, y1: canvas.clientHeight - margin.bottom };
  }

  function toScreen() {
    const box = plotBox();
    const sx = (box.x1 - box.x0) / (view.x[1] - view.x[0]);
    const sy = (box.y1 - box.y0) / (view.y[1] - view.y[0]);
    screenX = new Float32Array(n);
    screenY = new Float32Array(n);
    grid = new Map();
    for (let i = 0; i < n; i++) {
      const px = box.x0 + (x[i] - view.x[0]) * sx;
      const py = box.y1 - (y[i] - view.y[0]) * sy;
      screenX[i] = px;
      screenY[i] = py;
      if (!Number.isFinite(px) || !Number.isFinite(py) || px < box.x0 || px > box.x1 || py < box.y0 || py > box.y1) continue;
      const key = Math.floor(px / CELL) * 65536 + Math.floor(py / CELL);
      let cell = grid.get(key);
      if (!cell) grid.set(key, (cell = []));
      cell.push(i);
    }
  }

  function nearest(px, py) {
    let best = -1, bestDistance = HOVER_RADIUS * HOVER_RADIUS;
    const cx = Math.floor(px / CELL), cy = Math.floor(py / CELL);
    for (let gx = cx - 1; gx <= cx + 1; gx++) {
      for (let gy = cy - 1; gy <= cy + 1; gy++) {
        const cell = grid.get(gx * 65536 + gy);
        if (!cell) continue;
        for (const i of cell) {
          const d = (screenX[i] - px) ** 2 + (screenY[i] - py) ** 2;
          // Ties go to the point drawn on top (significant genes are drawn last).
          if (d < bestDistance || (d === bestDistance && drawRank(i) > drawRank(best))) { best = i; bestDistance = d; }
        }
      }
    }
    return best;
  }

  function drawRank(i) { return i < 0 ? -1 : classes[i]; }

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * ratio);
    canvas.height = Math.round(canvas.clientHeight * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
    toScreen();
    const box = plotBox();
    context.font = "12px system-ui, sans-serif";
    context.strokeStyle = "#333";
    context.fillStyle = "#333";
    context.lineWidth = 1;
    context.strokeRect(box.x0 + 0.5, box.y0 + 0.5, box.x1 - box.x0, box.y1 - box.y0);
    for (const [axis, range, log] of [["x", view.x, spec.x.log], ["y", view.y, spec.y.log]]) {
      const { ticks, step } = log ? logTicks(range) : niceTicks(range[0], range[1], 6);
      context.textAlign = axis === "x" ? "center" : "right";
      context.textBaseline = axis === "x" ? "top" : "middle";
      for (const t of ticks) {
        const position = axis === "x"
          ? box.x0 + (t - range[0]) / (range[1] - range[0]) * (box.x1 - box.x0)
          : box.y1 - (t - range[0]) / (range[1] - range[0]) * (box.y1 - box.y0);
        context.beginPath();
        if (axis === "x") { context.moveTo(position, box.y1); context.lineTo(position, box.y1 + 4); }
        else { context.moveTo(box.x0 - 4, position); context.lineTo(box.x0, position); }
        context.stroke();
        const label = tickLabel(t, step, log);
        if (axis === "x") context.fillText(label, position, box.y1 + 6);
        else context.fillText(label, box.x0 - 6, position);
      }
    }
    context.textAlign = "center";
    context.textBaseline = "bottom";
    context.fillText(spec.x.label, (box.x0 + box.x1) / 2, canvas.clientHeight - 6);
    context.save();
    context.translate(16, (box.y0 + box.y1) / 2);
    context.rotate(-Math.PI / 2);
    context.textBaseline = "middle";
    context.fillText(spec.y.label, 0, 0);
    context.restore();
    context.save();
    context.beginPath();
    context.rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    context.clip();
    for (const line of spec.reference_lines || []) {
      context.strokeStyle = "#999";
      context.beginPath();
      if (line.axis === "x") {
        const px = box.x0 + (line.value - view.x[0]) / (view.x[1] - view.x[0]) * (box.x1 - box.x0);
        context.moveTo(px, box.y0); context.lineTo(px, box.y1);
      } else {
        const py = box.y1 - (line.value - view.y[0]) / (view.y[1] - view.y[0]) * (box.y1 - box.y0);
        context.moveTo(box.x0, py); context.lineTo(box.x1, py);
      }
      context.stroke();
    }
    // One path per class: 60,000 circles fill in a few tens of milliseconds.
    spec.classes.forEach((group, code) => {
      const radius = group.size / 2;
      context.fillStyle = group.colour;
      context.globalAlpha = group.opacity ?? 0.8;
      context.beginPath();
      for (let i = 0; i < n; i++) {
        if (classes[i] !== code || !Number.isFinite(screenX[i]) || !Number.isFinite(screenY[i])) continue;
        context.moveTo(screenX[i] + radius, screenY[i]);
        context.arc(screenX[i], screenY[i], radius, 0, 2 * Math.PI);
      }
      context.fill();
      if (group.size > 6) {
        context.globalAlpha = 1;
        context.strokeStyle = "#fff";
        context.lineWidth = 0.8;
        context.stroke();
      }
    });
    context.globalAlpha = 1;
    const ringed = new Set(spec.highlight || []);
    if (selected >= 0) ringed.add(selected);
    const labelled = new Set(ringed);
    if (spec.label_all) for (let i = 0; i < n; i++) labelled.add(i);
    for (const i of ringed) {
      if (!Number.isFinite(screenX[i]) || !Number.isFinite(screenY[i])) continue;
      context.strokeStyle = "#111";
      context.lineWidth = i === selected ? 2 : 1;
      context.beginPath();
      context.arc(screenX[i], screenY[i], i === selected ? 7 : 5, 0, 2 * Math.PI);
      context.stroke();
    }
    placeLabels([...labelled]);
    context.restore();
    if (drag && drag.moved) {
      context.strokeStyle = "#0072B2";
      context.setLineDash([4, 3]);
      context.strokeRect(drag.x0, drag.y0, drag.x1 - drag.x0, drag.y1 - drag.y0);
      context.setLineDash([]);
    }
  }

  // Greedy placement: each label (selected first, then top-most points) takes the first of
  // eight positions around its point that overlaps no label placed before it.
  function placeLabels(indices) {
    context.font = "bold 12px system-ui, sans-serif";
    context.textAlign = "left";
    context.textBaseline = "alphabetic";
    const placed = [];
    const order = indices.filter((i) => Number.isFinite(screenX[i]) && Number.isFinite(screenY[i]))
      .sort((a, b) => (b === selected) - (a === selected) || screenY[a] - screenY[b]);
    const height = 12, gap = 7;
    for (const i of order) {
      const text = name(i), width = context.measureText(text).width;
      const px = screenX[i], py = screenY[i];
      const candidates = [[gap, -gap], [gap, gap + height], [-gap - width, -gap], [-gap - width, gap + height],
        [-width / 2, -gap - 2], [-width / 2, gap + height + 2], [gap + 4, height / 2 - 1], [-gap - width - 4, height / 2 - 1]];
      let chosen = candidates[0];
      for (const [dx, dy] of candidates) {
        const box = [px + dx - 1, py + dy - height, px + dx + width + 1, py + dy + 2];
        if (!placed.some((other) => box[0] < other[2] && box[2] > other[0] && box[1] < other[3] && box[3] > other[1])) {
          chosen = [dx, dy];
          break;
        }
      }
      placed.push([px + chosen[0] - 1, py + chosen[1] - height, px + chosen[0] + width + 1, py + chosen[1] + 2]);
      context.lineWidth = 3;
      context.strokeStyle = "rgba(255,255,255,0.85)";
      context.strokeText(text, px + chosen[0], py + chosen[1]);
      context.fillStyle = "#111";
      context.fillText(text, px + chosen[0], py + chosen[1]);
    }
  }

  function logTicks(range) {
    const ticks = [];
    for (let t = Math.ceil(range[0]); t <= Math.floor(range[1]); t++) ticks.push(t);
    if (ticks.length < 2) return niceTicks(range[0], range[1], 4);
    return { ticks, step: 1 };
  }

  function name(i) { return columns[spec.name_column][i] || columns[spec.id_column][i]; }

  function tooltipLines(i) {
    return spec.tooltip.map((row) => {
      const value = columns[row.column][i];
      return [row.label, value === "" || value === undefined ? (row.empty ?? "NA") : value];
    });
  }

  function showTooltip(i, pinned) {
    if (i < 0) { tooltip.hidden = true; tooltip.dataset.index = ""; return; }
    tooltip.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = name(i);
    tooltip.appendChild(title);
    for (const [label, value] of tooltipLines(i)) {
      const line = document.createElement("div");
      const key = document.createElement("span");
      key.className = "key";
      key.textContent = label + ": ";
      const text = document.createElement("span");
      text.className = "value";
      text.dataset.field = label;
      text.textContent = value;
      line.append(key, text);
      tooltip.appendChild(line);
    }
    tooltip.dataset.index = String(i);
    tooltip.dataset.name = name(i);
    tooltip.hidden = false;
    const width = tooltip.offsetWidth, height = tooltip.offsetHeight;
    const px = Number.isFinite(screenX[i]) ? screenX[i] : margin.left, py = Number.isFinite(screenY[i]) ? screenY[i] : margin.top;
    let left = px + 12, top = py + 12;
    if (left + width > canvas.clientWidth) left = px - width - 12;
    if (top + height > canvas.clientHeight) top = py - height - 12;
    tooltip.style.left = Math.max(0, left) + "px";
    tooltip.style.top = Math.max(0, top) + "px";
    tooltip.classList.toggle("pinned", Boolean(pinned));
  }

  function pointer(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener("mousemove", (event) => {
    if (!columns) return;
    const [px, py] = pointer(event);
    if (drag) {
      drag.x1 = px; drag.y1 = py;
      drag.moved = drag.moved || Math.abs(px - drag.x0) + Math.abs(py - drag.y0) > 4;
      draw();
      return;
    }
    const i = nearest(px, py);
    if (i !== hovered) {
      hovered = i;
      canvas.style.cursor = i >= 0 ? "pointer" : "crosshair";
      showTooltip(i >= 0 ? i : selected, i < 0);
    }
  });
  canvas.addEventListener("mouseleave", () => { hovered = -1; if (!drag) showTooltip(selected, true); });
  canvas.addEventListener("mousedown", (event) => {
    const [px, py] = pointer(event);
    drag = { x0: px, y0: py, x1: px, y1: py, moved: false };
  });
  window.addEventListener("mouseup", () => {
    if (!drag) return;
    const box = plotBox(), d = drag;
    drag = null;
    if (d.moved) {
      const fx = (p) => view.x[0] + (p - box.x0) / (box.x1 - box.x0) * (view.x[1] - view.x[0]);
      const fy = (p) => view.y[0] + (box.y1 - p) / (box.y1 - box.y0) * (view.y[1] - view.y[0]);
      view = { x: [fx(Math.min(d.x0, d.x1)), fx(Math.max(d.x0, d.x1))], y: [fy(Math.max(d.y0, d.y1)), fy(Math.min(d.y0, d.y1))] };
    } else if (hovered >= 0) {
      selected = hovered;
    }
    draw();
    showTooltip(hovered >= 0 ? hovered : selected, hovered < 0);
  });
  canvas.addEventListener("dblclick", resetZoom);
  document.getElementById("reset").addEventListener("click", resetZoom);

  function resetZoom() { view = { x: full.x.slice(), y: full.y.slice() }; draw(); showTooltip(selected, true); }

  function find(query) {
    const wanted = query.trim().toUpperCase();
    if (!wanted) return { index: -1, suggestions: [] };
    const suggestions = [];
    for (let i = 0; i < n; i++) {
      for (const column of spec.search_columns) {
        const value = (columns[column][i] || "").toUpperCase();
        if (!value) continue;
        if (value === wanted) return { index: i, suggestions: [] };
        if (suggestions.length < 8 && value.startsWith(wanted)) suggestions.push(name(i));
      }
    }
    return { index: -1, suggestions: [...new Set(suggestions)] };
  }

  function select(i) {
    selected = i;
    if (i >= 0) {
      const inside = x[i] >= view.x[0] && x[i] <= view.x[1] && y[i] >= view.y[0] && y[i] <= view.y[1];
      if (!inside) view = { x: full.x.slice(), y: full.y.slice() };
    }
    draw();
    showTooltip(i, true);
  }

  function search() {
    const query = searchBox.value;
    const { index, suggestions } = find(query);
    searchStatus.replaceChildren();
    if (index >= 0) {
      select(index);
      if (!Number.isFinite(x[index]) || !Number.isFinite(y[index])) searchStatus.textContent = `${name(index)} has no position in this plot (NA)`;
      return;
    }
    if (!query.trim()) { select(-1); return; }
    searchStatus.append(`no ${spec.search_noun} '${query.trim()}'`);
    if (suggestions.length) {
      searchStatus.append("; did you mean ");
      suggestions.forEach((suggestion, k) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "suggestion";
        button.textContent = suggestion;
        button.addEventListener("click", () => { searchBox.value = suggestion; search(); });
        if (k) searchStatus.append(" ");
        searchStatus.append(button);
      });
    }
  }
  searchBox.addEventListener("keydown", (event) => { if (event.key === "Enter") search(); });
  searchBox.addEventListener("change", search);
  window.addEventListener("resize", () => { if (columns) { draw(); showTooltip(selected, true); } });

  function legend() {
    const list = document.getElementById("legend");
    spec.classes.forEach((group) => {
      if (!group.count) return;
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = group.colour;
      item.append(swatch, `${group.label} (${group.count.toLocaleString("en")})`);
      list.appendChild(item);
    });
  }

  unpack(spec.payload).then((unpacked) => {
    columns = unpacked;
    n = columns[spec.id_column].length;
    x = transform(columns[spec.x.column], spec.x);
    y = transform(columns[spec.y.column], spec.y);
    classes = Uint8Array.from(columns[spec.class_column], (c) => +c);
    full = { x: spec.x.range || extent(x), y: spec.y.range || extent(y) };
    view = { x: full.x.slice(), y: full.y.slice() };
    legend();
    draw();
    document.body.dataset.ready = "true";
  }).catch((error) => {
    document.getElementById("plot").textContent = "This figure could not be drawn: " + error;
  });

  window.fibroskinFigure = {
    get ready() { return Boolean(columns); },
    find: (query) => find(query).index,
    name,
    values: (i) => Object.fromEntries(tooltipLines(i)),
    screenPosition: (i) => ({ x: screenX[i], y: screenY[i] }),
    count: () => n,
  };
})();
