// The audit trail's usage chart: tokens per day, one stacked bar series per
// person, drawn by the vendored Chart.js (static/vendor/chartjs) from the JSON
// the page carries in <script type="application/json" id="usage-chart-data">
// (data, not code: the Content-Security-Policy runs no inline script).
(function () {
  "use strict";
  const canvas = document.getElementById("usage-chart");
  const source = document.getElementById("usage-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  // Distinct hues with at least 3:1 contrast against white (WCAG non-text contrast).
  const palette = ["#1d4ed8", "#b45309", "#047857", "#b91c1c", "#7c3aed", "#0e7490", "#be185d", "#4b5563"];
  const styles = getComputedStyle(document.documentElement);
  const text = styles.getPropertyValue("--fg").trim() || "#1f2328";
  const grid = styles.getPropertyValue("--border").trim() || "#e5e7eb";
  const format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map((series, n) => ({
        label: series.label, data: series.data,
        backgroundColor: palette[n % palette.length], borderWidth: 0, maxBarThickness: 28,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: {mode: "index", intersect: false},
      color: text,
      scales: {
        x: {stacked: true, title: {display: true, text: data.axes.x, color: text},
            ticks: {color: text, autoSkip: true, maxRotation: 0}, grid: {display: false}},
        y: {stacked: true, beginAtZero: true, title: {display: true, text: data.axes.y, color: text},
            ticks: {color: text, callback: (value) => format.format(value)}, grid: {color: grid}},
      },
      plugins: {
        legend: {position: "bottom", labels: {color: text, boxWidth: 12}},
        tooltip: {callbacks: {
          title: (items) => items.length ? data.dates[items[0].dataIndex] : "",
          label: (item) => `${item.dataset.label}: ${format.format(item.parsed.y)}`,
        }},
      },
    },
  });
})();
