// Renders a conversation: sends messages, and streams answers through SSE.
// Text arrives as plain text (textContent, never markup); the finished answer
// is replaced by the server's sanitized HTML. Interface strings come from the
// translation catalog (/jsi18n/: gettext, ngettext, interpolate).
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  if (!chat) return;
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("composer-text");
  const errorBox = document.getElementById("composer-error");
  const counter = document.getElementById("composer-counter");
  const sendButton = document.getElementById("send-button");
  const maxChars = parseInt(chat.dataset.maxChars, 10);
  const csrf = () => form.querySelector("[name=csrfmiddlewaretoken]").value;
  const FINAL = ["done", "failed", "cancelled"];
  let busy = false;

  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; }
  function setBusy(value) { busy = value; sendButton.disabled = value; }

  function updateCounter() {
    const n = input.value.length;
    counter.textContent = n > maxChars * 0.8 ? `${n.toLocaleString()} / ${maxChars.toLocaleString()}` : "";
    counter.classList.toggle("error", n > maxChars);
  }

  async function post(url, data) {
    const body = new FormData();
    Object.entries(data || {}).forEach(([k, v]) => body.append(k, v));
    const response = await fetch(url, {method: "POST", body, headers: {"X-CSRFToken": csrf(), "Accept": "application/json"}});
    let payload = {};
    try { payload = await response.json(); } catch (e) { payload = {}; }
    if (!response.ok) {
      const error = new Error(payload.error || interpolate(gettext("The server answered %(status)s. Please try again."), {status: response.status}, true));
      error.status = response.status;
      throw error;
    }
    return payload;
  }

  // One id per composed message, kept across retries of the same submit: the
  // server stores a message once per id and answers a repeat with the first
  // result (a double click, a retry after a lost response, a new chat too).
  function newRequestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  let draft = null;  // {text, id}: the message being sent, until it is stored

  // A send whose response was lost (network error, a proxy's 502/504) is tried
  // again with the same request id: it is stored at most once.
  async function postMessage(url, data) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await post(url, data);
      } catch (err) {
        const transient = err instanceof TypeError || err.status === 502 || err.status === 504;
        if (!transient || attempt >= 2) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
      }
    }
  }

  function userBubble(text) {
    const wrap = document.createElement("div");
    wrap.className = "msg user";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    wrap.appendChild(bubble);
    return wrap;
  }

  function answerElement(answer) {
    const base = `/answers/${answer.id}/`;
    const el = document.createElement("div");
    el.className = "msg assistant";
    el.dataset.answerId = answer.id;
    el.dataset.status = answer.status;
    el.dataset.streamUrl = answer.stream_url;
    el.innerHTML = `<div class="bubble"><span class="badge offline" hidden></span>
      <p class="muted redaction-note" hidden></p><p class="muted answer-notice" role="status" hidden></p><div class="content"></div><p class="error answer-error" hidden></p>
      <p class="muted answer-note" hidden></p><p class="muted citations" hidden></p></div>
      <div class="answer-actions">
      <button type="button" class="link act-stop" data-url="${base}stop/"></button>
      <button type="button" class="link act-regenerate" data-url="${base}regenerate/"></button>
      <button type="button" class="link act-copy"></button>
      <button type="button" class="link act-feedback" data-url="${base}feedback/" data-value="1">👍</button>
      <button type="button" class="link act-feedback" data-url="${base}feedback/" data-value="-1">👎</button></div>`;
    // Translated text is set as text, never parsed as markup.
    el.querySelector(".badge.offline").textContent = gettext("Offline mode");
    el.querySelector(".answer-note").textContent = gettext("Stopped.");
    el.querySelector(".act-stop").textContent = gettext("Stop");
    el.querySelector(".act-regenerate").textContent = gettext("Regenerate");
    el.querySelector(".act-copy").textContent = gettext("Copy");
    const [good, bad] = el.querySelectorAll(".act-feedback");
    good.setAttribute("aria-label", gettext("Good answer"));
    bad.setAttribute("aria-label", gettext("Bad answer"));
    return el;
  }

  // "The model is busy; retrying in 20 s…": why nothing comes yet.
  function showNotice(el, text) {
    const notice = el.querySelector(".answer-notice");
    if (!notice) return;
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function finish(el, status, data) {
    el.dataset.status = status;
    showNotice(el, "");
    const content = el.querySelector(".content");
    if (data.html !== undefined && (data.html || status !== "failed")) content.innerHTML = data.html;
    const err = el.querySelector(".answer-error");
    err.textContent = data.error || "";
    err.hidden = status !== "failed";
    el.querySelector(".answer-note").hidden = status !== "cancelled";
    renderCitations(el, data.citations || []);
    el.querySelector(".act-regenerate").textContent = status === "failed" ? gettext("Retry") : gettext("Regenerate");
    if (status === "done" && data.latency_ms != null && !el.querySelector(".meta")) {
      const meta = document.createElement("span");
      meta.className = "muted meta";
      const count = data.usage && data.usage.completion_tokens;
      const tokens = count ? " · " + interpolate(ngettext("%(count)s token", "%(count)s tokens", count), {count}, true) : "";
      meta.textContent = `${data.model || ""} · ${data.latency_ms} ms${tokens}`;
      el.querySelector(".answer-actions").appendChild(meta);
    }
    setBusy(false);
  }

  // Sources the answer was given: file name and page, linking to the passage.
  function renderCitations(el, citations) {
    const box = el.querySelector(".citations");
    if (!box) return;
    box.replaceChildren(document.createTextNode(gettext("Sources:")));
    citations.forEach((c) => {
      const link = document.createElement("a");
      link.className = "citation";
      link.href = `/knowledge/passages/${encodeURIComponent(c.chunk_id)}/`;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = `[${c.n}] ` + (c.page ? interpolate(gettext("%(file)s, p. %(page)s"), {file: c.file, page: c.page}, true) : c.file);
      box.append(" ", link);
    });
    box.hidden = citations.length === 0;
  }

  function attachStream(el) {
    const content = el.querySelector(".content");
    let text = "";
    setBusy(true);
    const source = new EventSource(el.dataset.streamUrl);
    source.addEventListener("status", (e) => {
      const data = JSON.parse(e.data);
      el.dataset.status = data.status === "retrying" ? "streaming" : data.status;
      if (data.offline) el.querySelector(".badge.offline").hidden = false;
      // "queued" (waiting for one of the company's slots) and "retrying" carry
      // a sentence; "streaming" clears it.
      showNotice(el, data.notice || "");
    });
    // The answer starts over (its worker stopped): the text so far is dropped.
    source.addEventListener("reset", () => { text = ""; content.textContent = ""; });
    source.addEventListener("redacted", (e) => {
      const note = el.querySelector(".redaction-note");
      if (!note) return;
      const items = JSON.parse(e.data).items || [];
      note.textContent = gettext("Redacted before sending:") + " " +
        items.map((i) => `${i.original} → ${i.placeholder}`).join(", ");
      note.hidden = items.length === 0;
    });
    source.addEventListener("delta", (e) => {
      text += JSON.parse(e.data).text;
      content.textContent = text;
      showNotice(el, "");
      el.dataset.status = "streaming";
      list.scrollTop = list.scrollHeight;
    });
    FINAL.forEach((status) => source.addEventListener(status, (e) => {
      source.close();
      finish(el, status, JSON.parse(e.data));
      list.scrollTop = list.scrollHeight;
    }));
    // On a dropped connection EventSource reconnects by itself and sends
    // Last-Event-ID, so the server resumes after the last delta we have.
    // A refused connection (503 while the message service is down) is not
    // retried: say so rather than waiting forever.
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;
      showError("The assistant is temporarily unavailable (its message service is down). " +
                "Your conversation is safe; reload the page in a moment to see the answer.");
      setBusy(false);
    });
  }

  // A conversation that was just started appears at the top of the sidebar.
  function addToSidebar(url, title) {
    const sidebar = document.querySelector(".conversation-list");
    if (!sidebar) return;
    sidebar.querySelectorAll("li").forEach((li) => {
      li.classList.remove("active");
      if (!li.querySelector("a")) li.remove();  // "No conversations yet."
    });
    const item = document.createElement("li");
    item.className = "active";
    const link = document.createElement("a");
    link.href = url;
    link.textContent = title;
    item.appendChild(link);
    sidebar.prepend(item);
  }

  async function send(text) {
    showError("");
    if (!text.trim()) { showError(gettext("Type a message first.")); return; }
    if (text.length > maxChars) {
      showError(interpolate(gettext("Your message is %(length)s characters long; the limit is %(limit)s."),
        {length: text.length.toLocaleString(), limit: maxChars.toLocaleString()}, true));
      return;
    }
    setBusy(true);
    if (!draft || draft.text !== text) draft = {text, id: newRequestId()};
    try {
      const data = await postMessage(chat.dataset.sendUrl, {text, request_id: draft.id});
      draft = null;
      const welcome = list.querySelector(".welcome");
      if (welcome) welcome.remove();
      if (location.pathname !== data.conversation_url) {
        history.replaceState(null, "", data.conversation_url);
        chat.dataset.sendUrl = `${data.conversation_url}send/`;
        form.action = chat.dataset.sendUrl;
        addToSidebar(data.conversation_url, data.title);
      }
      list.appendChild(userBubble(data.question.text));
      const el = answerElement(data.answer);
      list.appendChild(el);
      input.value = "";  // only now: a refused message stays in the box
      updateCounter();
      attachStream(el);
    } catch (err) {
      showError(err.message);
      setBusy(false);
    }
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); if (!busy) send(input.value); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); if (!busy) send(input.value); }
  });
  input.addEventListener("input", updateCounter);
  document.querySelectorAll(".suggestion").forEach((b) => b.addEventListener("click", () => send(b.textContent)));

  list.addEventListener("click", async (e) => {
    const button = e.target.closest("button");
    if (!button) return;
    const el = button.closest(".msg.assistant");
    try {
      if (button.classList.contains("act-stop")) {
        await post(button.dataset.url);
      } else if (button.classList.contains("act-regenerate")) {
        const data = await post(button.dataset.url);
        while (el.nextSibling) el.nextSibling.remove();
        const fresh = answerElement(data.answer);
        el.replaceWith(fresh);
        attachStream(fresh);
      } else if (button.classList.contains("act-copy")) {
        await navigator.clipboard.writeText(el.querySelector(".content").innerText);
        button.textContent = gettext("Copied");
        setTimeout(() => { button.textContent = gettext("Copy"); }, 1500);
      } else if (button.classList.contains("act-feedback")) {
        const value = button.classList.contains("chosen") ? "" : button.dataset.value;
        const comment = value === "-1" ? (window.prompt(gettext("What was wrong with this answer? (optional)")) || "") : "";
        await post(button.dataset.url, {value, comment});
        el.querySelectorAll(".act-feedback").forEach((b) => b.classList.toggle("chosen", b === button && value !== ""));
      }
    } catch (err) { showError(err.message); }
  });

  // Attach a file to this conversation (used only here, deleted with it).
  const attachInput = document.getElementById("attach-input");
  const attachStatus = document.getElementById("attach-status");
  async function watchAttachments(url) {
    for (let i = 0; i < 600; i++) {
      const response = await fetch(url, {headers: {"Accept": "application/json"}});
      if (!response.ok) return;
      const files = (await response.json()).files;
      attachStatus.textContent = files.map((f) => `${f.name}: ${f.status === "failed" ? f.error : f.status_label.toLowerCase()}`).join(" · ");
      if (!files.some((f) => f.status === "queued" || f.status === "processing")) return;
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }
  if (attachInput) {
    attachInput.addEventListener("change", async () => {
      const file = attachInput.files[0];
      attachInput.value = "";
      if (!file) return;
      showError("");
      attachStatus.textContent = interpolate(gettext("%(name)s: uploading…"), {name: file.name}, true);
      try {
        const data = await post(chat.dataset.attachUrl, {file});
        if (location.pathname !== data.conversation_url) {
          history.replaceState(null, "", data.conversation_url);
          chat.dataset.sendUrl = `${data.conversation_url}send/`;
          form.action = chat.dataset.sendUrl;
        }
        chat.dataset.attachUrl = `/knowledge/c/${data.conversation_id}/attach/`;
        await watchAttachments(`/knowledge/c/${data.conversation_id}/attachments/`);
      } catch (err) { attachStatus.textContent = ""; showError(err.message); }
    });
    if (chat.dataset.attachmentsUrl) watchAttachments(chat.dataset.attachmentsUrl);
  }

  // Answers still being written when the page loaded: pick their streams up.
  list.querySelectorAll(".msg.assistant").forEach((el) => {
    if (!FINAL.includes(el.dataset.status)) attachStream(el);
  });
  updateCounter();
})();
