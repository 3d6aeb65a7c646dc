// Renders a conversation: sends messages, and streams answers through SSE.
// Text arrives as plain text (textContent, never markup); the finished answer
// is replaced by the server's sanitized HTML. Interface strings come from the
// translation catalog (/jsi18n/: gettext, ngettext, interpolate).
//
// Also here: versions (edit and resend, regenerate, ‹ 1/2 ›), the sidebar on
// narrow screens, following the stream, code copy buttons, local times, the
// prompt library under "/", and the keyboard shortcuts.
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  if (!chat) return;
  const layout = chat.closest(".chat-layout");
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("composer-text");
  const errorBox = document.getElementById("composer-error");
  const counter = document.getElementById("composer-counter");
  const sendButton = document.getElementById("send-button");
  const statusLine = document.getElementById("chat-status");
  const jumpButton = document.getElementById("jump-latest");
  const maxChars = parseInt(chat.dataset.maxChars, 10);
  const iconsUrl = chat.dataset.icons;
  const csrf = () => form.querySelector("[name=csrfmiddlewaretoken]").value;
  const FINAL = ["done", "failed", "cancelled"];
  let busy = false;

  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; }
  function setBusy(value) { busy = value; sendButton.disabled = value; }
  function announce(text) { statusLine.textContent = text; }

  function updateCounter() {
    const n = input.value.length;
    counter.textContent = n > maxChars * 0.8 ? `${n.toLocaleString()} / ${maxChars.toLocaleString()}` : "";
    counter.classList.toggle("error", n > maxChars);
  }

  // The message box grows with its text (up to 40% of the window, then scrolls).
  function autoGrow() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, window.innerHeight * 0.4)}px`;
  }

  // --- Elements ----------------------------------------------------------------------

  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", `${iconsUrl}#${name}`);
    svg.appendChild(use);
    return svg;
  }

  function iconButton(className, iconName, label, extra) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `icon-button ${className}`;
    button.title = label;
    const text = document.createElement("span");
    text.className = "sr-only";
    text.textContent = label;
    button.append(icon(iconName), text);
    Object.entries(extra || {}).forEach(([k, v]) => button.setAttribute(k, v));
    return button;
  }

  function timeElement(iso) {
    const time = document.createElement("time");
    time.dateTime = iso || new Date().toISOString();
    localiseTime(time);
    return time;
  }

  // ‹ 2/3 ›: a form per direction, as the server renders it (a plain POST
  // that comes back to this conversation at that message).
  function versionsElement(id, info) {
    if (!info || info.count < 2) return null;
    const box = document.createElement("div");
    box.className = "versions";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", gettext("Versions"));
    const side = (targetId, cls, iconName, label) => {
      const f = document.createElement("form");
      f.method = "post";
      if (targetId) f.action = `/messages/${targetId}/show/`;
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrf();
      const button = iconButton(cls, iconName, label);
      button.type = "submit";
      button.disabled = !targetId;
      f.append(token, button);
      return f;
    };
    const count = document.createElement("span");
    count.className = "version-count";
    count.textContent = interpolate(gettext("%(n)s of %(total)s"), {n: info.number, total: info.count}, true);
    box.append(side(info.previousId, "version-prev", "chevron-left", gettext("Previous version")), count,
               side(info.nextId, "version-next", "chevron-right", gettext("Next version")));
    return box;
  }

  function questionElement(question) {
    const wrap = document.createElement("div");
    wrap.className = "msg user";
    wrap.id = `m${question.id}`;
    wrap.dataset.messageId = question.id;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = question.text;
    const meta = document.createElement("div");
    meta.className = "msg-meta";
    const versions = versionsElement(question.id, question.versions);
    if (versions) meta.appendChild(versions);
    meta.append(timeElement(question.created), iconButton("act-edit", "edit", gettext("Edit message")));
    wrap.append(bubble, meta);
    return wrap;
  }

  function answerElement(answer) {
    const base = `/answers/${answer.id}/`;
    const el = document.createElement("div");
    el.className = "msg assistant";
    el.id = `m${answer.id}`;
    el.dataset.answerId = answer.id;
    el.dataset.status = answer.status;
    el.dataset.streamUrl = answer.stream_url;
    el.innerHTML = `<div class="bubble"><span class="badge offline" hidden></span>
      <p class="muted redaction-note" hidden></p><p class="muted answer-notice" role="status" hidden></p>
      <p class="thinking muted"><span class="dots" aria-hidden="true"><span></span><span></span><span></span></span><span class="when-pending"></span><span class="when-streaming"></span></p>
      <div class="content"></div><p class="error answer-error" hidden></p>
      <p class="muted answer-note" hidden></p><p class="muted citations" hidden></p></div>
      <div class="answer-actions"></div>`;
    // Translated text is set as text, never parsed as markup.
    el.querySelector(".badge.offline").textContent = gettext("Offline mode");
    el.querySelector(".answer-note").textContent = gettext("Stopped.");
    el.querySelector(".when-pending").textContent = gettext("Thinking…");
    el.querySelector(".when-streaming").textContent = gettext("Writing…");
    const actions = el.querySelector(".answer-actions");
    const versions = versionsElement(answer.id, answer.versions);
    if (versions) actions.appendChild(versions);
    const stop = document.createElement("button");
    stop.type = "button";
    stop.className = "chip act-stop";
    stop.dataset.url = `${base}stop/`;
    stop.setAttribute("aria-keyshortcuts", "Escape");
    const stopLabel = document.createElement("span");
    stopLabel.textContent = gettext("Stop");
    stop.append(icon("stop"), stopLabel);
    actions.append(
      stop,
      iconButton("act-regenerate", "refresh", gettext("Regenerate"), {"data-url": `${base}regenerate/`}),
      iconButton("act-copy", "copy", gettext("Copy")),
      iconButton("act-feedback", "thumbs-up", gettext("Good answer"), {"data-url": `${base}feedback/`, "data-value": "1", "aria-pressed": "false"}),
      iconButton("act-feedback", "thumbs-down", gettext("Bad answer"), {"data-url": `${base}feedback/`, "data-value": "-1", "aria-pressed": "false"}),
      timeElement(answer.created),
    );
    return el;
  }

  function setButtonLabel(button, label) {
    button.title = label;
    const text = button.querySelector(".sr-only, .label");
    if (text) text.textContent = label; else button.textContent = label;
  }

  // --- Times, code and tables ----------------------------------------------------------

  const lang = document.documentElement.lang || undefined;
  const timeOnly = new Intl.DateTimeFormat(lang, {timeStyle: "short"});
  const dateAndTime = new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short"});
  const full = new Intl.DateTimeFormat(lang, {dateStyle: "full", timeStyle: "medium"});
  const today = new Date().toDateString();
  function localiseTime(time) {
    const when = new Date(time.dateTime);
    if (Number.isNaN(when.getTime())) return;
    time.textContent = (when.toDateString() === today ? timeOnly : dateAndTime).format(when);
    time.title = full.format(when);
  }

  // Code blocks get a copy button and their language; wide code and tables
  // scroll sideways on their own (and can be scrolled with the keyboard).
  function decorate(root) {
    root.querySelectorAll(".content pre").forEach((pre) => {
      if (pre.parentElement.classList.contains("code-block")) return;
      const wrap = document.createElement("div");
      wrap.className = "code-block";
      pre.replaceWith(wrap);
      pre.tabIndex = 0;
      const code = pre.querySelector("code");
      const language = code && [...code.classList].find((c) => c.startsWith("language-"));
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "copy-code";
      const copyLabel = document.createElement("span");
      copyLabel.className = "label";
      copyLabel.textContent = gettext("Copy code");
      copy.append(icon("copy"), copyLabel);
      wrap.append(pre, copy);
      if (language) {
        const label = document.createElement("span");
        label.className = "code-lang";
        label.textContent = language.slice("language-".length);
        wrap.appendChild(label);
      }
    });
    root.querySelectorAll(".content table").forEach((table) => {
      if (table.parentElement.classList.contains("table-wrap")) return;
      const wrap = document.createElement("div");
      wrap.className = "table-wrap";
      wrap.tabIndex = 0;
      table.replaceWith(wrap);
      wrap.appendChild(table);
    });
  }

  // --- Scrolling: open at the latest message, follow the stream unless the
  // reader scrolled up to read something earlier. ---------------------------------------

  let follow = true;
  const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 48;
  // Off-screen messages are sized lazily (content-visibility: auto): once the
  // last ones are laid out the height changes, so stay at the end until it
  // holds still (a few frames).
  let settling = 0;
  function toBottom() {
    list.scrollTop = list.scrollHeight;
    if (settling) { settling = 12; return; }
    settling = 12;
    let height = list.scrollHeight;
    const settle = () => {
      if (!follow) { settling = 0; return; }
      list.scrollTop = list.scrollHeight;
      settling = list.scrollHeight === height ? settling - 1 : 12;
      height = list.scrollHeight;
      if (settling > 0) requestAnimationFrame(settle);
    };
    requestAnimationFrame(settle);
  }
  function keepUp() { if (follow) toBottom(); else jumpButton.hidden = false; }
  // Scrolling by the reader (wheel, touch, keys, the scroll bar) decides
  // whether to follow; the list's own scrolling to the end does not.
  let readerAt = -Infinity;
  ["wheel", "touchmove", "keydown", "pointerdown"].forEach((type) =>
    list.addEventListener(type, () => { readerAt = performance.now(); }, {passive: true}));
  list.addEventListener("scroll", () => {
    if (settling && performance.now() - readerAt > 500) return;
    follow = atBottom();
    if (follow) jumpButton.hidden = true;
  }, {passive: true});
  jumpButton.addEventListener("click", () => { follow = true; jumpButton.hidden = true; toBottom(); list.focus(); });

  // --- Sending ----------------------------------------------------------------------------

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
  let draft = null;  // {text, id, editOf}: the message being sent, until it is stored

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
    decorate(el);
    const err = el.querySelector(".answer-error");
    err.textContent = data.error || "";
    err.hidden = status !== "failed";
    el.querySelector(".answer-note").hidden = status !== "cancelled";
    renderCitations(el, data.citations || []);
    setButtonLabel(el.querySelector(".act-regenerate"), status === "failed" ? gettext("Retry") : gettext("Regenerate"));
    if (status === "done" && data.latency_ms != null && !el.querySelector(".meta")) {
      const meta = document.createElement("span");
      meta.className = "muted meta";
      const count = data.usage && data.usage.completion_tokens;
      const tokens = count ? " · " + interpolate(ngettext("%(count)s token", "%(count)s tokens", count), {count}, true) : "";
      meta.textContent = `${data.model || ""} · ${data.latency_ms} ms${tokens}`;
      el.querySelector(".answer-actions").appendChild(meta);
    }
    announce(status === "done" ? gettext("The answer is complete.") : status === "cancelled" ? gettext("Stopped.") : (data.error || ""));
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

  function attachStream(el, resume) {
    const content = el.querySelector(".content");
    // Resuming after a refused reconnect: the text so far stays, and the
    // stream goes on after the last event this page had.
    let text = resume ? resume.text : "";
    let lastId = resume ? resume.lastId : "";
    const refused = resume ? resume.refused : 0;
    if (!refused) setBusy(true);
    let url = el.dataset.streamUrl;
    if (lastId) url += (url.includes("?") ? "&" : "?") + "after=" + encodeURIComponent(lastId);
    const source = new EventSource(url);
    ["status", "reset", "redacted", "delta"].concat(FINAL).forEach((name) =>
      source.addEventListener(name, (e) => { if (e.lastEventId) lastId = e.lastEventId; }));
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
      keepUp();
    });
    FINAL.forEach((status) => source.addEventListener(status, (e) => {
      source.close();
      finish(el, status, JSON.parse(e.data));
      keepUp();
    }));
    // On a dropped connection EventSource reconnects by itself and sends
    // Last-Event-ID, so the server resumes after the last delta we have.
    // A refused reconnection (503 while the message service restarts) closes
    // it for good: open it again after the last event we have, for up to
    // about two minutes, then say so rather than waiting forever.
    // Meanwhile the person is told at once (and may send again); the notice
    // goes when the stream is back.
    source.addEventListener("open", () => {
      if (refused) { showError(""); setBusy(true); }
    });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;
      if (refused < 40) {
        if (!refused) {
          showError(gettext("The assistant is temporarily unavailable (its message service is down). Your conversation is safe; the answer goes on as soon as it is back."));
          setBusy(false);
        }
        setTimeout(() => attachStream(el, {text, lastId, refused: refused + 1}), 3000);
        return;
      }
      showError(gettext("The assistant is temporarily unavailable (its message service is down). Your conversation is safe; reload the page in a moment to see the answer."));
      setBusy(false);
    });
  }

  // A conversation that was just started appears at the top of the sidebar.
  function addToSidebar(url, title) {
    const nav = document.querySelector(".conversation-nav");
    if (!nav) return;
    nav.querySelectorAll(".conversation-list li").forEach((li) => {
      li.classList.remove("active");
      if (!li.querySelector("a")) li.remove();  // "No conversations yet."
    });
    let first = nav.querySelector(".conversation-list");
    const heading = nav.querySelector(".conversation-group");
    if (!heading || heading.textContent !== gettext("Today")) {
      const today = document.createElement("h2");
      today.className = "conversation-group";
      today.textContent = gettext("Today");
      first = document.createElement("ul");
      first.className = "conversation-list";
      nav.prepend(today, first);
    }
    const item = document.createElement("li");
    item.className = "active";
    const link = document.createElement("a");
    link.href = url;
    link.textContent = title;
    link.setAttribute("aria-current", "page");
    item.appendChild(link);
    first.prepend(item);
  }

  // A new chat's header gains the conversation's rename and delete forms, as
  // the page has them after a reload (rendered by the server, fetched once).
  async function showConversationHeader(url) {
    try {
      const response = await fetch(url, {credentials: "same-origin"});
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector(".chat-header");
      const header = chat.querySelector(".chat-header");
      if (!fresh || !header || location.pathname !== url) return;
      const toggle = header.querySelector(".sidebar-toggle");
      const parts = [...fresh.children].filter((el) => !el.classList.contains("sidebar-toggle"));
      header.replaceChildren(...(toggle ? [toggle] : []), ...parts);
    } catch (err) {
      // The header keeps the chat's name; a reload shows the forms.
    }
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
    const editOf = editing ? editing.dataset.messageId : "";
    if (!draft || draft.text !== text || draft.editOf !== editOf) draft = {text, id: newRequestId(), editOf};
    const data = {text, request_id: draft.id};
    if (editOf) data.edit_of = editOf;
    try {
      const sent = await postMessage(chat.dataset.sendUrl, data);
      draft = null;
      const welcome = list.querySelector(".welcome");
      if (welcome) welcome.remove();
      if (location.pathname !== sent.conversation_url) {
        history.replaceState(null, "", sent.conversation_url);
        chat.dataset.sendUrl = `${sent.conversation_url}send/`;
        form.action = chat.dataset.sendUrl;
        addToSidebar(sent.conversation_url, sent.title);
        const heading = chat.querySelector(".chat-title");
        if (heading) heading.textContent = sent.title;
        showConversationHeader(sent.conversation_url);
      }
      if (editOf) {
        // The edited message and what followed it stay on the earlier version.
        const old = document.getElementById(`m${editOf}`);
        if (old && !sent.repeated) { while (old.nextSibling) old.nextSibling.remove(); old.remove(); }
        stopEditing();
      }
      list.appendChild(questionElement({...sent.question, versions: versionInfo(sent.question)}));
      const el = answerElement(sent.answer);
      list.appendChild(el);
      input.value = "";  // only now: a refused message stays in the box
      autoGrow();
      updateCounter();
      follow = true;
      toBottom();
      announce(gettext("Thinking…"));
      attachStream(el);
    } catch (err) {
      showError(err.message);
      setBusy(false);
    }
  }

  function versionInfo(item) {
    return item.versions ? {number: item.version, count: item.versions, previousId: item.previous_id, nextId: null} : null;
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); if (!busy) send(input.value); });
  input.addEventListener("input", () => { updateCounter(); autoGrow(); updatePromptMenu(); });
  document.querySelectorAll(".suggestion").forEach((b) => b.addEventListener("click", () => send(b.textContent)));

  // --- Editing a sent message ---------------------------------------------------------------

  let editing = null;  // the .msg.user being edited
  const editingNote = document.getElementById("editing-note");
  function startEditing(el) {
    if (busy) return;
    stopEditing();
    editing = el;
    el.classList.add("editing");
    editingNote.hidden = false;
    input.value = el.querySelector(".bubble").textContent;
    autoGrow();
    updateCounter();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
  function stopEditing(clear) {
    if (!editing) return;
    editing.classList.remove("editing");
    editing = null;
    editingNote.hidden = true;
    if (clear) { input.value = ""; autoGrow(); updateCounter(); }
  }
  document.getElementById("edit-cancel").addEventListener("click", () => { stopEditing(true); input.focus(); });

  list.addEventListener("click", async (e) => {
    const button = e.target.closest("button");
    if (!button) return;
    if (button.classList.contains("act-edit")) { startEditing(button.closest(".msg.user")); return; }
    if (button.classList.contains("copy-code")) {
      await copyText(button.parentElement.querySelector("pre").innerText, button, gettext("Copy code"));
      return;
    }
    if (button.classList.contains("library-prompt")) { usePrompt(button.dataset.promptId); return; }
    const el = button.closest(".msg.assistant");
    if (!el) return;
    try {
      if (button.classList.contains("act-stop")) {
        await post(button.dataset.url);
      } else if (button.classList.contains("act-regenerate")) {
        const data = await post(button.dataset.url);
        // The earlier answer (and what followed it) stays as a version.
        while (el.nextSibling) el.nextSibling.remove();
        const fresh = answerElement({...data.answer, versions: versionInfo(data.answer)});
        el.replaceWith(fresh);
        follow = true;
        toBottom();
        attachStream(fresh);
      } else if (button.classList.contains("act-copy")) {
        await copyText(el.querySelector(".content").innerText, button, gettext("Copy"));
      } else if (button.classList.contains("act-feedback")) {
        const value = button.classList.contains("chosen") ? "" : button.dataset.value;
        const comment = value === "-1" ? (window.prompt(gettext("What was wrong with this answer? (optional)")) || "") : "";
        await post(button.dataset.url, {value, comment});
        el.querySelectorAll(".act-feedback").forEach((b) => {
          const chosen = b === button && value !== "";
          b.classList.toggle("chosen", chosen);
          b.setAttribute("aria-pressed", String(chosen));
        });
      }
    } catch (err) { showError(err.message); }
  });

  async function copyText(text, button, label) {
    await navigator.clipboard.writeText(text);
    setButtonLabel(button, gettext("Copied"));
    button.querySelector("use")?.setAttribute("href", `${iconsUrl}#check`);
    announce(gettext("Copied"));
    setTimeout(() => {
      setButtonLabel(button, label);
      button.querySelector("use")?.setAttribute("href", `${iconsUrl}#copy`);
    }, 1500);
  }

  // --- The prompt library: suggestions on a new chat, and "/" in the composer ----------------

  const promptData = document.getElementById("prompt-data");
  const prompts = promptData ? JSON.parse(promptData.textContent) : [];
  const menu = document.getElementById("prompt-menu");
  let menuItems = [];
  let active = -1;

  function usePrompt(id) {
    const prompt = prompts.find((p) => String(p.id) === String(id));
    if (!prompt) return;
    input.value = prompt.text;
    closeMenu();
    autoGrow();
    updateCounter();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
  function closeMenu() {
    menu.hidden = true;
    menuItems = [];
    active = -1;
    input.removeAttribute("aria-activedescendant");
  }
  function setActive(index) {
    active = index;
    menuItems.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
    if (menuItems[active]) {
      input.setAttribute("aria-activedescendant", menuItems[active].id);
      menuItems[active].scrollIntoView({block: "nearest"});
    }
  }
  function updatePromptMenu() {
    const value = input.value;
    if (!prompts.length || !value.startsWith("/") || value.includes("\n")) { closeMenu(); return; }
    const term = value.slice(1).trim().toLowerCase();
    const found = prompts.filter((p) => !term || p.title.toLowerCase().includes(term) || p.text.toLowerCase().includes(term));
    menu.replaceChildren();
    menuItems = found.map((p) => {
      const option = document.createElement("div");
      option.className = "prompt-option";
      option.id = `prompt-option-${p.id}`;
      option.setAttribute("role", "option");
      option.dataset.promptId = p.id;
      const title = document.createElement("strong");
      title.textContent = p.title;
      const text = document.createElement("span");
      text.textContent = p.text;
      option.append(title, text);
      option.addEventListener("mousedown", (e) => { e.preventDefault(); usePrompt(p.id); });
      menu.appendChild(option);
      return option;
    });
    if (!found.length) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = gettext("No prompt matches.");
      menu.appendChild(empty);
    }
    menu.hidden = false;
    setActive(found.length ? 0 : -1);
    announce(interpolate(ngettext("%(count)s prompt", "%(count)s prompts", found.length), {count: found.length}, true));
  }

  // --- Keyboard ------------------------------------------------------------------------

  input.addEventListener("keydown", (e) => {
    if (!menu.hidden && menuItems.length) {
      if (e.key === "ArrowDown") { e.preventDefault(); setActive((active + 1) % menuItems.length); return; }
      if (e.key === "ArrowUp") { e.preventDefault(); setActive((active - 1 + menuItems.length) % menuItems.length); return; }
      if (e.key === "Enter" || e.key === "Tab") {
        if (active >= 0) { e.preventDefault(); usePrompt(menuItems[active].dataset.promptId); return; }
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); if (!busy) send(input.value); return; }
    // ↑ in an empty box: edit the last message sent.
    if (e.key === "ArrowUp" && !input.value && !e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      const mine = list.querySelectorAll(".msg.user");
      if (mine.length) { e.preventDefault(); startEditing(mine[mine.length - 1]); }
    }
  });

  function answerInProgress() {
    return [...list.querySelectorAll(".msg.assistant")].reverse()
      .find((el) => el.dataset.status === "pending" || el.dataset.status === "streaming");
  }

  document.addEventListener("keydown", (e) => {
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === "Escape") {
      if (!menu.hidden) { closeMenu(); e.preventDefault(); return; }
      if (sidebarOpenNarrow()) { setSidebar(false); toggle.focus(); e.preventDefault(); return; }
      const running = answerInProgress();
      if (running) { running.querySelector(".act-stop").click(); e.preventDefault(); return; }
      if (editing) { stopEditing(true); e.preventDefault(); }
      return;
    }
    if (mod && e.shiftKey && (e.key === "O" || e.key === "o")) {
      e.preventDefault();
      window.location.href = chat.dataset.homeUrl;
      return;
    }
    if (mod && !e.shiftKey && (e.key === "k" || e.key === "K")) {
      e.preventDefault();
      if (narrow.matches) setSidebar(true); else if (layout.dataset.sidebar === "closed") setSidebar(true);
      const search = document.getElementById("conversation-search");
      search.focus();
      search.select();
    }
  });

  // --- The sidebar: a column on wide screens (can be hidden), a panel over
  // the conversation on narrow ones. -------------------------------------------------------

  const narrow = window.matchMedia("(max-width: 800px)");
  const toggle = document.getElementById("sidebar-toggle");
  const backdrop = document.getElementById("sidebar-backdrop");
  function sidebarOpenNarrow() { return narrow.matches && layout.dataset.sidebar === "open"; }
  function setSidebar(open, remember) {
    layout.dataset.sidebar = open ? "open" : "closed";
    toggle.setAttribute("aria-expanded", String(open));
    backdrop.hidden = !(open && narrow.matches);
    if (remember && !narrow.matches) {
      try { localStorage.setItem("sidebar", open ? "open" : "closed"); } catch (e) { /* not saved */ }
    }
  }
  function initialSidebar() {
    let saved = null;
    try { saved = localStorage.getItem("sidebar"); } catch (e) { /* none */ }
    setSidebar(!narrow.matches && saved !== "closed");
  }
  toggle.addEventListener("click", () => {
    const open = layout.dataset.sidebar !== "open";
    setSidebar(open, true);
    if (open && narrow.matches) document.querySelector("#sidebar .new-chat").focus();
  });
  document.getElementById("sidebar-close").addEventListener("click", () => { setSidebar(false); toggle.focus(); });
  backdrop.addEventListener("click", () => setSidebar(false));
  narrow.addEventListener("change", initialSidebar);
  initialSidebar();

  // --- Attach a file to this conversation (used only here, deleted with it) -----------------

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

  // --- On load ----------------------------------------------------------------------------

  decorate(list);
  list.querySelectorAll("time").forEach(localiseTime);
  // Back from a version switch: at that message; otherwise at the latest.
  const target = /^#m\d+$/.test(location.hash) && document.getElementById(location.hash.slice(1));
  if (target) {
    follow = false;
    target.scrollIntoView({block: "center"});
  } else {
    toBottom();
  }
  // Answers still being written when the page loaded: pick their streams up.
  list.querySelectorAll(".msg.assistant").forEach((el) => {
    if (!FINAL.includes(el.dataset.status)) attachStream(el);
  });
  updateCounter();
  autoGrow();
  if (!list.querySelector(".msg")) input.focus();
})();
