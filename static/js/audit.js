// The audit trail's tokens-per-day chart: each bar's height comes from its
// data-height (percent of the busiest day).
(function () {
  "use strict";
  document.querySelectorAll(".chart .bar[data-height]").forEach((bar) => {
    const height = Math.min(100, Math.max(0, parseFloat(bar.dataset.height) || 0));
    bar.style.height = `${height}%`;
  });
})();
