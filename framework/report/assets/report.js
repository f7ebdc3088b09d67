// sinklab report.html: interactive attention maps and table filters. Runs from file:// with
// no network. Sets <html data-report-status="ok|error"> once the page has checked itself, so a
// headless browser (the test suite's Chromium) can tell a loaded page from a broken one.
"use strict";
(function () {
  const root = document.documentElement;
  const errors = [];
  function reportError(message) {
    errors.push(message);
    root.dataset.reportErrors = String(errors.length);
    const box = document.getElementById("report-errors");
    if (box) box.textContent = errors.join("\n");
  }
  window.addEventListener("error", (e) => reportError("script error: " + e.message));

  // ---- attention maps ---------------------------------------------------------------
  // Data: {prompts: {id: {tokens: [...]}}, maps: [{variant, prompt, layer, head, n, scale, w}]}
  // with w the lower triangle (query q, key k <= q) row by row, as integers weight * scale.
  function weightAt(map, q, k) {
    return k > q ? NaN : map.w[(q * (q + 1)) / 2 + k] / map.scale;
  }
  function shownToken(t) {
    return JSON.stringify(t).slice(1, -1);  // newlines and tabs as \n, \t
  }
  function colour(x) {  // white -> dark blue, x in [0, 1]
    const r = Math.round(255 - x * (255 - 16)), g = Math.round(255 - x * (255 - 52)), b = Math.round(255 - x * (255 - 140));
    return `rgb(${r},${g},${b})`;
  }

  function setupAttention(container, data) {
    const select = (label, cls) => {
      const l = document.createElement("label");
      l.textContent = label + " ";
      const s = document.createElement("select");
      s.className = cls;
      l.appendChild(s);
      controls.appendChild(l);
      return s;
    };
    const controls = container.querySelector(".attention-controls");
    const variantSel = select("variant", "sel-variant"), promptSel = select("prompt", "sel-prompt"),
          headSel = select("layer / head", "sel-head"), scaleSel = select("colour", "sel-scale");
    scaleSel.innerHTML = '<option value="linear">linear</option><option value="sqrt">square root (shows small weights)</option>';
    const canvas = container.querySelector("canvas"), tooltip = container.querySelector(".attention-tooltip"),
          tokensBox = container.querySelector(".attention-tokens"), note = container.querySelector(".attention-note");
    const unique = (xs) => [...new Set(xs)];
    const fill = (sel, values, labels) => {
      const keep = sel.value;
      sel.innerHTML = "";
      values.forEach((v, i) => { const o = document.createElement("option"); o.value = v; o.textContent = labels ? labels[i] : v; sel.appendChild(o); });
      if (values.includes(keep)) sel.value = keep;
    };
    fill(variantSel, unique(data.maps.map((m) => m.variant)));
    let current = null, cell = 1, query = -1;

    function refreshChoices() {
      const forVariant = data.maps.filter((m) => m.variant === variantSel.value);
      fill(promptSel, unique(forVariant.map((m) => m.prompt)));
      const maps = forVariant.filter((m) => m.prompt === promptSel.value);
      fill(headSel, maps.map((m) => `${m.layer}.${m.head}`), maps.map((m) => `L${m.layer} H${m.head}`));
      draw();
    }
    function draw() {
      current = data.maps.find((m) => m.variant === variantSel.value && m.prompt === promptSel.value &&
                                      `${m.layer}.${m.head}` === headSel.value) || null;
      if (!current) return;
      const n = current.n;
      cell = Math.max(1, Math.min(24, Math.floor(640 / n)));
      canvas.width = canvas.height = n * cell;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#e4e4e4";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      let max = 0;
      for (const v of current.w) max = Math.max(max, v);
      max = max / current.scale || 1;
      const shade = scaleSel.value === "sqrt" ? (x) => colour(Math.sqrt(x)) : colour;
      for (let q = 0; q < n; ++q)
        for (let k = 0; k <= q; ++k) {
          ctx.fillStyle = shade(weightAt(current, q, k) / max);
          ctx.fillRect(k * cell, q * cell, cell, cell);
        }
      const tokens = data.prompts[current.prompt].tokens;
      note.textContent = `${current.variant}, prompt ${current.prompt}, layer ${current.layer}, head ${current.head} ` +
        `(0-based): ${n} tokens${current.cropped ? ` (first ${n} of ${current.cropped})` : ""}; colour: weight / ${max.toFixed(3)} (the map's largest); grey: future keys`;
      tokensBox.innerHTML = "";
      tokens.slice(0, n).forEach((t, i) => {
        const s = document.createElement("span");
        s.textContent = shownToken(t);
        s.dataset.index = i;
        s.addEventListener("mouseenter", () => showQuery(i, -1));
        tokensBox.appendChild(s);
      });
      showQuery(Math.min(query < 0 ? n - 1 : query, n - 1), -1);
    }
    // Colours the token text by the attention of query q; describes cell (q, k) when k >= 0.
    function showQuery(q, k) {
      if (!current) return;
      query = q;
      const tokens = data.prompts[current.prompt].tokens;
      const spans = tokensBox.children;
      let max = 0;
      for (let j = 0; j <= q; ++j) max = Math.max(max, weightAt(current, q, j));
      for (let j = 0; j < spans.length; ++j) {
        spans[j].style.background = j <= q ? colour(weightAt(current, q, j) / (max || 1)) : "";
        spans[j].style.color = j <= q && weightAt(current, q, j) / (max || 1) > 0.6 ? "#fff" : "";
        spans[j].classList.toggle("query", j === q);
      }
      if (k >= 0 && k <= q) {
        tooltip.textContent = `query ${q} "${shownToken(tokens[q])}" -> key ${k} "${shownToken(tokens[k])}": ` +
          `weight ${weightAt(current, q, k).toFixed(4)}`;
      } else {
        tooltip.textContent = `query ${q} "${shownToken(tokens[q])}": largest weight ${max.toFixed(4)}; hover the map for single weights`;
      }
      container.dataset.tooltip = tooltip.textContent;
    }
    canvas.addEventListener("mousemove", (e) => {
      const rect = canvas.getBoundingClientRect();
      const k = Math.floor(((e.clientX - rect.left) * canvas.width) / rect.width / cell);
      const q = Math.floor(((e.clientY - rect.top) * canvas.height) / rect.height / cell);
      if (current && q >= 0 && q < current.n && k >= 0) showQuery(q, k);
    });
    variantSel.addEventListener("change", refreshChoices);
    promptSel.addEventListener("change", refreshChoices);
    headSel.addEventListener("change", draw);
    scaleSel.addEventListener("change", draw);
    refreshChoices();
    return {
      // for the self-test: hover cell (q, k) the way a mouse would
      hover(q, k) {
        const rect = canvas.getBoundingClientRect();
        canvas.dispatchEvent(new MouseEvent("mousemove", {
          clientX: rect.left + ((k + 0.5) * cell * rect.width) / canvas.width,
          clientY: rect.top + ((q + 0.5) * cell * rect.height) / canvas.height, bubbles: true }));
      },
      selects: { variant: variantSel, prompt: promptSel, head: headSel },
    };
  }

  // ---- tables ---------------------------------------------------------------------
  function setupFilters() {
    for (const input of document.querySelectorAll("input.filter")) {
      const table = document.getElementById(input.dataset.table);
      input.addEventListener("input", () => {
        const needle = input.value.toLowerCase();
        for (const row of table.tBodies[0].rows) row.hidden = needle && !row.textContent.toLowerCase().includes(needle);
      });
    }
  }

  // ---- self-check -----------------------------------------------------------------
  function checkFigures() {
    const images = [...document.querySelectorAll("figure img")];
    const ok = images.filter((img) => img.complete && img.naturalWidth > 0);
    root.dataset.figuresTotal = String(images.length);
    root.dataset.figuresLoaded = String(ok.length);
    for (const img of images) if (!(img.complete && img.naturalWidth > 0)) reportError("figure did not load: " + img.alt);
  }

  window.addEventListener("load", () => {
    try {
      setupFilters();
      for (const fig of document.querySelectorAll("figure")) fig.addEventListener("click", () => fig.classList.toggle("wide"));
      const el = document.getElementById("attention-data");
      const container = document.querySelector(".attention");
      let view = null;
      if (el && container) {
        const data = JSON.parse(el.textContent);
        view = setupAttention(container, data);
        root.dataset.attentionMaps = String(data.maps.length);
      }
      checkFigures();
      // #selftest: hover one cell of every map the selects offer, as a user would.
      if (location.hash === "#selftest" && view) {
        const seen = [];
        for (const v of [...view.selects.variant.options].map((o) => o.value)) {
          view.selects.variant.value = v;
          view.selects.variant.dispatchEvent(new Event("change"));
          for (const p of [...view.selects.prompt.options].map((o) => o.value)) {
            view.selects.prompt.value = p;
            view.selects.prompt.dispatchEvent(new Event("change"));
            for (const h of [...view.selects.head.options].map((o) => o.value)) {
              view.selects.head.value = h;
              view.selects.head.dispatchEvent(new Event("change"));
              view.hover(3, 0);
              seen.push(`${v} ${p} ${h}: ${container.dataset.tooltip}`);
            }
          }
        }
        root.dataset.selftest = seen.join(" | ");
      }
    } catch (e) {
      reportError("report script failed: " + e.message);
    }
    root.dataset.reportStatus = errors.length ? "error" : "ok";
  });
})();
