// The Knowledge page: drag-and-drop or pick several files, a progress bar per
// file while it uploads and then while the worker processes it, and a file
// list kept fresh by polling. Text from the server is set with textContent.
(function () {
  "use strict";
  const zone = document.getElementById("dropzone");
  if (!zone) return;
  const input = document.getElementById("file-input");
  const uploads = document.getElementById("uploads");
  const tbody = document.querySelector("#files tbody");
  const csrf = zone.querySelector("[name=csrfmiddlewaretoken]").value;
  const maxBytes = parseInt(zone.dataset.maxMb, 10) * 1024 * 1024;
  const tracked = new Map();  // file id -> upload <li>
  let polling = null;
  let minilmInUse = false;  // from the status JSON: MiniLM vectors follow a ready file

  // A ready file whose MiniLM vectors the background task is still adding.
  function improving(f) {
    return minilmInUse && f.status === "ready" && !f.embedding_note && f.minilm_chunks < f.chunks;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sizeText(bytes) {
    const number = (value) => value.toLocaleString(document.documentElement.lang, {maximumFractionDigits: 1});
    if (bytes < 1024) return interpolate(ngettext("%(count)s byte", "%(count)s bytes", bytes), {count: number(bytes)}, true);
    if (bytes < 1024 * 1024) return `${number(bytes / 1024)} KB`;
    return `${number(bytes / 1024 / 1024)} MB`;
  }

  function setLine(li, state, text, done, total) {
    li.dataset.state = state;
    li.querySelector(".upload-state").textContent = text;
    const bar = li.querySelector("progress");
    if (total) { bar.max = total; bar.value = done; bar.hidden = false; }
    else if (state === "ready" || state === "failed") { bar.hidden = true; }
    else { bar.removeAttribute("value"); bar.hidden = false; }
    li.classList.toggle("error", state === "failed");
  }

  function upload(file, choice, reuse) {
    const li = reuse || el("li", {"class": "upload"});
    li.replaceChildren();
    li.appendChild(el("span", {"class": "upload-name"}, file.name + " "));
    li.appendChild(el("progress", {max: "100", value: "0"}));
    li.appendChild(el("span", {"class": "upload-state"}, " " + gettext("waiting")));
    if (!reuse) uploads.appendChild(li);
    if (file.size > maxBytes) {
      setLine(li, "failed", " " + interpolate(gettext("The file is %(size)s, larger than the %(limit)s MB limit. Split it into smaller files, then upload again."), {size: sizeText(file.size), limit: zone.dataset.maxMb}, true));
      return;
    }
    const body = new FormData();
    body.append("file", file);
    if (choice) body.append("duplicate", choice);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", zone.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) setLine(li, "uploading", " " + interpolate(gettext("uploading %(percent)s"), {percent: `${Math.round(100 * e.loaded / e.total)}%`}, true), e.loaded, e.total);
    });
    xhr.addEventListener("load", () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = {}; }
      if (xhr.status === 201 || xhr.status === 200) {
        tracked.set(data.file.id, li);
        if (data.outcome === "kept") setLine(li, "ready", " " + data.message);
        else showStatus(li, data.file);
        poll();
      } else if (xhr.status === 409 && data.code === "duplicate") {
        askDuplicate(li, file, data.error);
      } else {
        setLine(li, "failed", " " + (data.error || interpolate(gettext("The server answered %(status)s. Please try again."), {status: xhr.status}, true)));
      }
    });
    xhr.addEventListener("error", () => setLine(li, "failed", " " + gettext("The upload was interrupted. Check your connection and try again.")));
    xhr.send(body);
  }

  // The same content is already in the library: keep that file or replace it.
  function askDuplicate(li, file, message) {
    setLine(li, "duplicate", " " + message);
    li.querySelector("progress").hidden = true;
    const choices = el("span", {"class": "upload-choices"});
    const keep = el("button", {type: "button", "class": "link upload-keep"}, zone.dataset.keepLabel);
    const replace = el("button", {type: "button", "class": "link upload-replace"}, zone.dataset.replaceLabel);
    keep.addEventListener("click", () => upload(file, "keep", li));
    replace.addEventListener("click", () => upload(file, "replace", li));
    choices.append(" ", keep, " ", replace);
    li.appendChild(choices);
  }

  function showStatus(li, f) {
    if (f.status === "queued") setLine(li, "queued", " " + gettext("queued"));
    else if (f.status === "processing") {
      setLine(li, "processing", " " + (f.progress[1]
        ? interpolate(gettext("processing %(done)s of %(total)s"), {done: f.progress[0], total: f.progress[1]}, true)
        : gettext("processing")), f.progress[0], f.progress[1]);
    } else if (f.status === "ready") {
      const chunks = interpolate(ngettext("%(count)s chunk", "%(count)s chunks", f.chunks), {count: f.chunks}, true);
      const pages = f.pages ? interpolate(ngettext("%(count)s page", "%(count)s pages", f.pages), {count: f.pages}, true) : "";
      const counts = pages ? interpolate(gettext("%(chunks)s, %(pages)s"), {chunks, pages}, true) : chunks;
      setLine(li, "ready", " " + interpolate(gettext("ready: %(counts)s"), {counts}, true));
    }
    else setLine(li, "failed", " " + f.error);
  }

  function actionForm(url, label, confirmText) {
    const form = el("form", {method: "post", action: url});
    const token = el("input", {type: "hidden", name: "csrfmiddlewaretoken", value: csrf});
    const button = el("button", {"class": "link"}, label);
    form.append(token, button);
    if (confirmText) form.dataset.confirm = confirmText;  // asked by page.js
    return form;
  }

  function row(f) {
    const tr = el("tr", {"class": "kfile", "data-file-id": f.id, "data-status": f.status});
    tr.appendChild(el("td", {"class": "kfile-name"}, f.name));
    const status = el("td", {"class": `kfile-status status-${f.status}`},
      f.status_label + (f.status === "processing" && f.progress[1] ? ` ${f.progress[0]}/${f.progress[1]}` : ""));
    if (f.error) status.appendChild(el("div", {"class": "error note kfile-error"}, f.error));
    if (f.embedding_note) status.appendChild(el("div", {"class": "muted note"}, f.embedding_note));
    if (improving(f)) {
      status.appendChild(el("div", {"class": "muted note kfile-minilm"}, interpolate(ngettext(
        "Improving semantic search: %(done)s of %(total)s passage",
        "Improving semantic search: %(done)s of %(total)s passages", f.chunks),
      {done: f.minilm_chunks, total: f.chunks}, true)));
    }
    tr.appendChild(status);
    tr.appendChild(el("td", {}, sizeText(f.size_bytes)));
    tr.appendChild(el("td", {"class": "kfile-counts"}, `${f.pages || "–"} / ${f.chunks}`));
    tr.appendChild(el("td", {}, f.uploader || "–"));
    tr.appendChild(el("td", {}, f.created.slice(0, 16).replace("T", " ")));
    const actions = el("td", {"class": "kfile-actions"});
    actions.appendChild(el("a", {href: f.chunks_url}, gettext("Text")));
    actions.appendChild(actionForm(`files/${f.id}/reindex/`, gettext("Re-index")));
    actions.appendChild(actionForm(`files/${f.id}/delete/`, gettext("Delete"), gettext("Delete this file and its index?")));
    tr.appendChild(actions);
    return tr;
  }

  async function refresh() {
    const response = await fetch(zone.dataset.statusUrl, {headers: {"Accept": "application/json"}});
    if (!response.ok) return false;
    const data = await response.json();
    minilmInUse = Boolean(data.minilm_in_use);
    tbody.replaceChildren(...(data.files.length ? data.files.map(row)
      : [(() => { const tr = el("tr", {"class": "empty"}); tr.appendChild(el("td", {colspan: "7", "class": "muted"}, gettext("No files yet."))); return tr; })()]));
    data.files.forEach((f) => { if (tracked.has(f.id)) showStatus(tracked.get(f.id), f); });
    return data.files.some((f) => f.status === "queued" || f.status === "processing" || improving(f));
  }

  function poll() {
    if (polling) return;
    polling = setInterval(async () => {
      let busy = true;
      try { busy = await refresh(); } catch (e) { busy = true; }
      const waiting = [...uploads.querySelectorAll("li")].some((li) => li.dataset.state === "uploading");
      if (!busy && !waiting) { clearInterval(polling); polling = null; }
    }, 700);
  }

  function take(files) { [...files].forEach((file) => upload(file)); }
  input.addEventListener("change", () => { take(input.files); input.value = ""; });
  // Files picked before this (deferred) script ran, on a slow connection: upload them too.
  if (input.files && input.files.length) { take(input.files); input.value = ""; }
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => take(e.dataTransfer.files));
  if (tbody.querySelector('[data-status="queued"], [data-status="processing"], .kfile-minilm')) poll();
})();
