/* CDP charts: draw every <canvas data-chart="id-of-json-script"> with Chart.js.
   The JSON (rendered by Django's json_script filter) is a Chart.js config object:
   {"type": "line", "data": {...}, "options": {...}}. Charts re-render on cdp:chart-update. */
(function () {
  "use strict";
  const charts = new Map();
  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    const config = JSON.parse(source.textContent);
    config.options = Object.assign({responsive: true, maintainAspectRatio: false, animation: false},
                                   config.options || {});
    if (charts.has(canvas)) { charts.get(canvas).destroy(); }
    charts.set(canvas, new Chart(canvas, config));
    canvas.dataset.rendered = "true";
  }
  function drawAll() { document.querySelectorAll("canvas[data-chart]").forEach(draw); }
  window.cdpCharts = {draw: draw, drawAll: drawAll, get: (canvas) => charts.get(canvas)};
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("cdp:chart-update", (event) => draw(event.target));
})();
