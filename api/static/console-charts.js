// Draws every <canvas data-chart="id"> of a console page with Chart.js (vendored, /static/vendor/chart.js) from the
// page's <script type="application/json" id="chart-data"> block. No inline script or style: the console's CSP holds.
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || !window.Chart) return;
  var specs = JSON.parse(block.textContent);
  var palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777"];

  function suffix(unit) {
    return unit === "percent" ? " %" : unit === "seconds" ? " s" : "";
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = specs[canvas.dataset.chart];
    if (!spec) return;
    var line = spec.type === "line";
    var stacked = spec.type === "stacked";
    // Percentages and health scores have a fixed 0-100 scale, so days and accounts compare at a glance.
    var bounded = spec.series.every(function (s) { return s.unit === "percent" || s.unit === "score"; });
    var datasets = spec.series.map(function (series, index) {
      var colour = palette[index % palette.length];
      return {
        label: series.label,
        data: series.values,
        unit: series.unit,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 2 : 0,
        maxBarThickness: 36,
        spanGaps: false,
      };
    });
    var value = { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } };
    if (bounded) value.max = 100;
    var horizontal = spec.type === "hbar";
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        scales: horizontal ? { x: value, y: { stacked: stacked } } : { x: { stacked: stacked }, y: value },
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (item) {
                var raw = item.raw === null ? "—" : item.formattedValue + suffix(item.dataset.unit);
                return item.dataset.label + ": " + raw;
              },
            },
          },
        },
      },
    });
    canvas.dataset.rendered = "true";
  });
})();
