// Runs in <head>, before the first paint: the theme chosen with the toggle
// (saved in this browser), else none and the CSS follows prefers-color-scheme.
(function () {
  "use strict";
  try {
    const saved = localStorage.getItem("theme");
    if (saved === "dark" || saved === "light") document.documentElement.dataset.theme = saved;
  } catch (e) { /* storage blocked: follow the system */ }
})();
