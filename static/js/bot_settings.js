// Bot settings: "Test connection" sends what the form holds now (nothing is
// saved; the server applies the same endpoint rules as saving) and shows the
// answer; the colour field shows its value beside the swatch.
(function () {
  "use strict";
  const button = document.getElementById("test-connection");
  const out = document.getElementById("test-result");
  if (button && out) {
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
  const colour = document.getElementById("id_accent_color");
  const value = document.getElementById("accent-color-value");
  if (colour && value) {
    const show = () => { value.textContent = colour.value; };
    colour.addEventListener("input", show);
    show();
  }
})();
