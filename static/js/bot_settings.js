// Bot settings: "Test connection" sends what the form holds now (nothing is
// saved; the server applies the same endpoint rules as saving) and shows the
// answer; the colour field shows its value beside the swatch.
(function () {
  "use strict";
  const button = document.getElementById("test-connection");
  const out = document.getElementById("test-result");
  if (button && out) {
    // Disabled in the HTML until this script runs: a click before then would do nothing.
    button.disabled = false;
    button.addEventListener("click", async () => {
      out.textContent = gettext("Testing…"); out.className = "muted";
      const form = button.form;
      const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
      button.disabled = true;
      try {
        const response = await fetch(button.dataset.url, {
          method: "POST", body: new FormData(form), headers: {"X-CSRFToken": token, "Accept": "application/json"},
        });
        const body = await response.json();
        out.textContent = body.message || body.error || response.statusText;
        out.className = body.ok ? "ok" : "error";
      } catch (err) {
        out.textContent = interpolate(gettext("The test could not run: %(error)s"), {error: String(err)}, true);
        out.className = "error";
      } finally { button.disabled = false; }
    });
  }
  // The colour's contrast with the white text drawn on it (WCAG), as the
  // server checks it on saving (chat/forms.py, at least 4.5:1).
  const contrastWithWhite = (hex) => {
    const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 1.05 / (0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2] + 0.05);
  };
  const colour = document.getElementById("id_accent_color");
  const value = document.getElementById("accent-color-value");
  const contrast = document.getElementById("accent-contrast");
  if (colour && value) {
    const show = () => {
      value.textContent = colour.value;
      if (!contrast || !/^#[0-9a-f]{6}$/i.test(colour.value)) return;
      const ratio = contrastWithWhite(colour.value);
      const shown = (Math.floor(ratio * 10) / 10).toFixed(1);
      contrast.textContent = ratio < 4.5
        ? interpolate(gettext("Contrast with white text: %(ratio)s:1, too light; pick a darker shade."), {ratio: shown}, true)
        : interpolate(gettext("Contrast with white text: %(ratio)s:1."), {ratio: shown}, true);
      contrast.className = ratio < 4.5 ? "error" : "muted";
    };
    colour.addEventListener("input", show);
    show();
  }
})();
