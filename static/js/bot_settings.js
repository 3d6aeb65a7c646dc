// Bot settings: "Test connection" asks the server to call the model endpoint
// with the saved settings and shows its answer.
(function () {
  "use strict";
  const button = document.getElementById("test-connection");
  if (!button) return;
  const out = document.getElementById("test-result");
  button.addEventListener("click", async () => {
    out.textContent = gettext("Testing…"); out.className = "muted";
    const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    try {
      const response = await fetch(button.dataset.url, {method: "POST", headers: {"X-CSRFToken": token}});
      const body = await response.json();
      out.textContent = body.message; out.className = body.ok ? "ok" : "error";
    } catch (err) { out.textContent = interpolate(gettext("The test could not run: %(error)s"), {error: String(err)}, true); out.className = "error"; }
  });
})();
