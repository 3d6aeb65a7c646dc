// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy
// can forbid inline script: forms that ask before they submit, Back links, and
// the client's accent colour.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // <select data-autosubmit>: the header's language picker saves on change.
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });
  // <form data-confirm="Delete this…?">: submitted only once the person agrees.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  // <a href="…" data-back>: back to the previous page when there is one (a
  // javascript: URL would be blocked), else to the link's own address.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-back]");
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
  // <… data-accent="#2563eb">: the bot's colour, set through the CSSOM (allowed
  // by the policy, unlike a style attribute or <style> element).
  const themed = document.querySelector("[data-accent]");
  if (themed && themed.dataset.accent) {
    document.documentElement.style.setProperty("--accent", themed.dataset.accent);
  }
  // Dark mode: the toggle overrides the system's choice and is remembered in
  // this browser (static/js/theme.js applies it before the first paint).
  const root = document.documentElement;
  const themeToggle = document.getElementById("theme-toggle");
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  const isDark = () => root.dataset.theme ? root.dataset.theme === "dark" : systemDark.matches;
  function showTheme() { if (themeToggle) themeToggle.setAttribute("aria-pressed", String(isDark())); }
  if (themeToggle) {
    themeToggle.addEventListener("click", () => {
      root.dataset.theme = isDark() ? "light" : "dark";
      try { localStorage.setItem("theme", root.dataset.theme); } catch (e) { /* not saved */ }
      showTheme();
    });
    systemDark.addEventListener("change", showTheme);
    showTheme();
  }
  // The menu button of narrow screens opens and closes the navigation.
  const navToggle = document.getElementById("nav-toggle");
  const nav = document.getElementById("site-nav");
  if (navToggle && nav) {
    const setOpen = (open) => {
      navToggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    };
    navToggle.addEventListener("click", () => setOpen(navToggle.getAttribute("aria-expanded") !== "true"));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && nav.classList.contains("open")) { setOpen(false); navToggle.focus(); }
    });
  }
})();
