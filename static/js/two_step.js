// Passkeys for the two-step sign-in: ask the server for WebAuthn options, let
// the browser make or use the passkey, send its answer back as JSON.
// The server (py_webauthn) checks everything; this file only translates
// between base64url strings (JSON) and the ArrayBuffers the browser API wants.
(function () {
  "use strict";

  function toBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var bytes = atob(base64);
    var buffer = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) { buffer[i] = bytes.charCodeAt(i); }
    return buffer.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      if (response.getTransports) { json.response.transports = response.getTransports(); }
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) { json.response.userHandle = toBase64url(response.userHandle); }
    }
    return json;
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || ""); }
        return data;
      });
    });
  }

  function run(button) {
    var form = button.closest("form");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var error = document.getElementById("passkey-error");
    var registering = button.dataset.passkey === "register";
    error.hidden = true;
    button.disabled = true;
    post(button.dataset.optionsUrl, token).then(function (options) {
      if (registering) {
        options.challenge = toBuffer(options.challenge);
        options.user.id = toBuffer(options.user.id);
        (options.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
        return navigator.credentials.create({ publicKey: options });
      }
      options.challenge = toBuffer(options.challenge);
      (options.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
      return navigator.credentials.get({ publicKey: options });
    }).then(function (credential) {
      var body = { credential: credentialJSON(credential) };
      if (registering) {
        body.name = (form.querySelector("input[name=name]") || {}).value || "";
      } else {
        var remember = document.getElementById("remember");
        body.remember = !!(remember && remember.checked);
      }
      return post(button.dataset.url, token, body);
    }).then(function (data) {
      window.location.assign(data.redirect);
    }).catch(function (problem) {
      error.textContent = (problem && problem.message && problem.name === "Error")
        ? problem.message : button.dataset.failed;
      error.hidden = false;
      button.disabled = false;
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (button) {
    if (!window.PublicKeyCredential) { button.hidden = true; return; }
    button.addEventListener("click", function () { run(button); });
  });
})();
