/* The web chat page's script: plain ES2020, no framework, no build step.
 *
 * It talks to the JSON API in trygg/web/chat_api.py (same origin; a cookie identifies
 * the person):
 *   POST /chat/api/start    {source, language, client_id} -> {messages, active}
 *   POST /chat/api/send     {text | payload, client_id}    -> {messages, active}
 *   GET  /chat/api/current                                 -> {messages, active}
 * The server deduplicates on client_id, so a request that failed on the network is
 * retried once with the same body. The visible transcript is kept in sessionStorage so
 * that a reload shows it again; /chat/api/current then brings back the buttons of the
 * question the dialog waits on.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("trygg-config").textContent);
  const texts = config.texts;
  const STORAGE_KEY = "trygg-chat:" + window.location.pathname;
  const MAX_STORED = 300; // entries kept for a reload; older ones are dropped
  const TIMEOUT_MS = 20000;
  const RETRY_DELAY_MS = 700;
  const RETRY_STATUSES = new Set([502, 503, 504]);
  const CHOICE_INPUTS = new Set(["single", "multiple", "language"]);

  const logRegion = document.getElementById("log");
  const list = document.getElementById("messages");
  const statusLine = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("answer");

  /** Entries: {from: "bot", text, language, direction, input, step_id, image, options}
   *  or {from: "me", text}. Options are shown under the last entry only. */
  let transcript = [];
  let busy = false;
  let started = false;

  // -- ids and requests ------------------------------------------------------------

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID(); // secure contexts only (https, localhost)
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [0, 8, 12, 16, 20]
      .map((start, i, starts) => hex.slice(start, starts[i + 1]))
      .join("-");
  }

  class HttpError extends Error {
    constructor(status) {
      super("HTTP " + status);
      this.status = status;
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function fetchOnce(method, url, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok) {
        throw new HttpError(response.status);
      }
      const data = await response.json();
      if (!data || !Array.isArray(data.messages)) {
        throw new Error("unexpected response");
      }
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request, retried once (same body, so same client_id) after a network error,
   *  a timeout or a gateway error. Other HTTP errors are not retried. */
  async function request(method, url, body) {
    try {
      return await fetchOnce(method, url, body);
    } catch (error) {
      if (error instanceof HttpError && !RETRY_STATUSES.has(error.status)) {
        throw error;
      }
      await sleep(RETRY_DELAY_MS);
      return fetchOnce(method, url, body);
    }
  }

  // -- storage ---------------------------------------------------------------------

  function loadTranscript() {
    try {
      const stored = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "[]");
      return Array.isArray(stored)
        ? stored.filter((entry) => entry && typeof entry.text === "string")
        : [];
    } catch (error) {
      return [];
    }
  }

  function saveTranscript() {
    if (transcript.length > MAX_STORED) {
      transcript = transcript.slice(-MAX_STORED);
      const extra = list.children.length - MAX_STORED;
      for (let i = 0; i < extra; i += 1) {
        list.removeChild(list.firstElementChild);
      }
    }
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(transcript));
    } catch (error) {
      // storage full or disabled: the chat still works, a reload just starts shorter
    }
  }

  // -- rendering -------------------------------------------------------------------

  function botEntry(message) {
    return {
      from: "bot",
      text: String(message.text || ""),
      language: message.language || config.chrome_lang,
      direction: message.direction === "rtl" ? "rtl" : "ltr",
      input: message.input || "none",
      step_id: message.step_id || null,
      image: message.image || null,
      options: Array.isArray(message.options) ? message.options : [],
      // text_hint is for text-only channels (SMS); the page has buttons instead.
    };
  }

  function isSystemOption(option) {
    return typeof option.id === "string" && option.id.startsWith("_");
  }

  function isToggle(entry, option) {
    return entry.input === "multiple" && !isSystemOption(option);
  }

  /** The question itself: a re-ask puts its explanation in paragraphs before it. */
  function questionText(entry) {
    const paragraphs = entry.text.split(/\n\s*\n/);
    return paragraphs[paragraphs.length - 1].trim() || entry.text;
  }

  function renderEntry(entry) {
    const item = document.createElement("li");
    if (entry.from === "me") {
      item.className = "msg msg-me";
      item.dir = "auto";
      const who = document.createElement("span");
      who.className = "visually-hidden";
      who.lang = config.chrome_lang;
      who.dir = config.chrome_dir; // has its own dir, so dir=auto ignores it
      who.textContent = texts.you + " ";
      const text = document.createElement("span");
      text.className = "msg-text";
      text.textContent = entry.text;
      item.append(who, text);
      return item;
    }
    item.className = "msg msg-bot";
    item.lang = entry.language;
    item.dir = entry.direction;
    if (entry.step_id) {
      item.dataset.step = entry.step_id;
    }
    const text = document.createElement("p");
    text.className = "msg-text";
    text.textContent = entry.text;
    item.append(text);
    // Flow images are files beside the flow or web addresses; only same-origin paths are
    // shown, so a visitor's browser never calls a third party.
    if (entry.image && /^\/(?!\/)/.test(entry.image)) {
      const image = document.createElement("img");
      image.className = "msg-image";
      image.src = entry.image;
      image.alt = ""; // the text names the place
      item.append(image);
    }
    return item;
  }

  function renderOptions(item, entry) {
    const group = document.createElement("div");
    group.className = "options";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", questionText(entry));
    for (const option of entry.options) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "option" + (isSystemOption(option) ? " option-system" : "");
      button.dataset.payload = option.payload;
      if (entry.input === "language" && /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(option.id)) {
        button.lang = option.id; // each language under its own name
        button.dir = "auto";
      }
      if (isToggle(entry, option)) {
        button.setAttribute("aria-pressed", option.selected ? "true" : "false");
        const mark = document.createElement("span");
        mark.className = "option-check";
        mark.setAttribute("aria-hidden", "true");
        button.append(mark);
      }
      if (option.symbol) {
        const symbol = document.createElement("span");
        symbol.className = "option-symbol";
        symbol.setAttribute("aria-hidden", "true");
        symbol.textContent = option.symbol;
        button.append(symbol);
      }
      const label = document.createElement("span");
      label.className = "option-label";
      label.textContent = option.label;
      button.append(label);
      button.addEventListener("click", () => choose(entry, option));
      group.append(button);
    }
    item.append(group);
    return group;
  }

  function removeOptions() {
    for (const group of list.querySelectorAll(".options")) {
      group.remove();
    }
  }

  /** Buttons belong to the last message only, and only when it asks something. */
  function showCurrentOptions() {
    removeOptions();
    const last = transcript[transcript.length - 1];
    const item = list.lastElementChild;
    if (last && item && last.from === "bot" && last.options.length) {
      renderOptions(item, last);
    }
  }

  function appendEntry(entry) {
    transcript.push(entry);
    const item = renderEntry(entry);
    list.append(item);
    return item;
  }

  function lastEntry() {
    return transcript[transcript.length - 1];
  }

  /** What a message asks: a flow step, or the language menu (which is not a step). */
  function questionKey(entry) {
    return entry.step_id || (entry.input === "language" ? "language-menu" : null);
  }

  /** The same question again: a multiple-choice tick, a retried request, a reload. */
  function sameQuestion(last, entry, refreshing) {
    const key = questionKey(entry);
    if (!last || last.from !== "bot" || !key || questionKey(last) !== key) {
      return false;
    }
    return refreshing || (last.text === entry.text && last.language === entry.language);
  }

  /** Shows the server's messages. Returns the first newly added list item, if any. */
  function receive(messages, refreshing) {
    let firstNew = null;
    for (const message of messages) {
      const entry = botEntry(message);
      const last = lastEntry();
      if (sameQuestion(last, entry, refreshing)) {
        last.options = entry.options;
        last.input = entry.input;
        continue;
      }
      const item = appendEntry(entry);
      firstNew = firstNew || item;
    }
    const focusedPayload =
      document.activeElement && document.activeElement.classList.contains("option")
        ? document.activeElement.dataset.payload
        : null;
    showCurrentOptions();
    saveTranscript();
    placeFocus(firstNew, firstNew ? null : focusedPayload);
  }

  /** After new messages: the first button of a choice question, else the text input.
   *  After an update in place (a tick): the button that was pressed. */
  function placeFocus(firstNew, keepPayload) {
    const last = lastEntry();
    const group = list.querySelector(".options");
    let target = input;
    if (group && last && last.from === "bot") {
      const buttons = Array.from(group.querySelectorAll("button"));
      const kept = keepPayload && buttons.find((b) => b.dataset.payload === keepPayload);
      if (kept) {
        target = kept;
      } else if (CHOICE_INPUTS.has(last.input) || last.input === "none") {
        target = buttons[0] || input;
      }
    }
    if (firstNew) {
      // Show the new messages from their start; then make sure the focus is visible.
      firstNew.scrollIntoView({ block: "start" });
    }
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "nearest" });
  }

  // -- status ----------------------------------------------------------------------

  function showError() {
    statusLine.textContent = "";
    // a fresh text node, so a repeated error is announced again
    window.setTimeout(() => {
      statusLine.textContent = texts.error;
    }, 50);
  }

  function clearStatus() {
    statusLine.textContent = "";
  }

  function setBusy(value) {
    busy = value;
    if (value) {
      logRegion.setAttribute("aria-busy", "true");
    } else {
      logRegion.removeAttribute("aria-busy");
    }
  }

  // -- sending ---------------------------------------------------------------------

  async function send(body, echo) {
    if (busy) {
      return false;
    }
    setBusy(true);
    const message = Object.assign({}, body, { client_id: newId() });
    try {
      const data = await request("POST", "/chat/api/send", message);
      clearStatus();
      if (echo) {
        appendEntry({ from: "me", text: echo });
      }
      setBusy(false);
      receive(data.messages, false);
      return true;
    } catch (error) {
      setBusy(false);
      showError();
      return false;
    }
  }

  function echoFor(entry, option) {
    if (entry.input === "multiple" && option.id === "_done") {
      const picked = entry.options.filter((o) => !isSystemOption(o) && o.selected);
      return picked.length ? picked.map((o) => o.label).join(", ") : option.label;
    }
    return isToggle(entry, option) ? null : option.label;
  }

  function choose(entry, option) {
    if (entry !== lastEntry()) {
      return; // an old question's button (they are removed, but a click may be queued)
    }
    send({ payload: option.payload }, echoFor(entry, option));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!started) {
      await begin();
      return;
    }
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    const sent = await send({ text }, text.trim());
    if (sent && input.value === text) {
      input.value = ""; // on an error the typed text stays
    }
  });

  // -- start and reload ------------------------------------------------------------

  async function begin() {
    if (busy) {
      return;
    }
    setBusy(true);
    try {
      if (transcript.length) {
        const current = await request("GET", "/chat/api/current");
        setBusy(false);
        if (current.messages.length) {
          receive(current.messages, true);
        } else {
          // The dialog has ended: the transcript stays, without stale buttons.
          const last = lastEntry();
          if (last && last.from === "bot") {
            last.options = [];
          }
          showCurrentOptions();
          saveTranscript();
          placeFocus(null, null);
        }
      } else {
        let data = await request("GET", "/chat/api/current");
        if (!data.messages.length) {
          data = await request("POST", "/chat/api/start", {
            source: config.source,
            language: config.language,
            client_id: newId(),
          });
        }
        setBusy(false);
        receive(data.messages, false);
      }
      started = true;
      clearStatus();
    } catch (error) {
      setBusy(false);
      showError();
    }
  }

  transcript = loadTranscript();
  for (const entry of transcript) {
    list.append(renderEntry(entry));
  }
  showCurrentOptions();
  begin();
})();
