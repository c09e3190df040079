/*
 * Kratom harm-reduction chat widget.
 *
 * Embed with one script tag; it loads its stylesheet, its offline emergency numbers
 * (locales/<locale>.js) and socket.io-client (/vendor/socket.io.min.js) from its own origin:
 *
 *   <script src="https://example.org/widget/kratom-chat.js"
 *           data-server-url="https://rasa.example.org" data-locale="us" defer></script>
 *
 * Attributes: data-server-url (Rasa server, default http://127.0.0.1:5005), data-locale
 * (us | uk, default us), data-socket-path (default /socket.io), data-reply-timeout-ms
 * (default 10000).
 *
 * Rules this file keeps (see web/README.md):
 * - Text from the bot or the user reaches the page only through textContent/createTextNode.
 *   The only links made are tel: links for phone numbers and http(s) links for URLs.
 * - The conversation and its session id live in sessionStorage only (no localStorage, no
 *   cookies); "Clear conversation" forgets both.
 * - Whenever the assistant cannot be reached, a notice says so and shows the locale's
 *   emergency numbers, which are also always in the header.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.KratomChatWidget) {
    return;
  }

  var STORAGE_KEY = "kratom-chat:v1";
  var MAX_INPUT_CHARS = 1000;
  var MAX_STORED_MESSAGES = 200;
  var MAX_QUICK_REPLIES = 12;
  var DEFAULT_SERVER_URL = "http://127.0.0.1:5005";
  var SCRIPT_URL = new URL(script.src, document.baseURI);
  var ASSET_BASE = new URL(".", SCRIPT_URL);

  var config = readConfig(script);

  function readConfig(el) {
    var data = el.dataset || {};
    var locale = String(data.locale || "us").trim().toLowerCase();
    if (!/^[a-z]{2}$/.test(locale)) {
      locale = "us";
    }
    var timeout = parseInt(data.replyTimeoutMs || "", 10);
    if (!(timeout >= 1000 && timeout <= 120000)) {
      timeout = 10000;
    }
    var socketPath = String(data.socketPath || "/socket.io");
    if (socketPath.charAt(0) !== "/") {
      socketPath = "/" + socketPath;
    }
    return {
      serverUrl: String(data.serverUrl || DEFAULT_SERVER_URL).trim(),
      locale: locale,
      socketPath: socketPath.replace(/\/+$/, ""),
      replyTimeoutMs: timeout
    };
  }

  // ------------------------------------------------------------------ text helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function hiddenText(text) {
    return el("span", "kc-visually-hidden", text);
  }

  /* A tel: URL with digits only: +1 for North American numbers written 1-800-222-1222 or
     800-222-1222, +44 for UK national numbers (0300 123 6600), short codes as they are. */
  function telHref(phone) {
    var digits = String(phone).replace(/\D/g, "");
    if (/^1\d{10}$/.test(digits)) {
      return "tel:+" + digits;
    }
    if (/^[2-9]\d{9}$/.test(digits)) {
      return "tel:+1" + digits;
    }
    if (/^0\d{9,10}$/.test(digits)) {
      return "tel:+44" + digits.slice(1);
    }
    return "tel:" + digits;
  }

  function telLink(phone, className) {
    var a = el("a", className || "kc-tel", phone);
    a.href = telHref(phone);
    return a;
  }

  // Longest forms first; short codes only as whole tokens (checked in isPhoneBoundary).
  var PHONE_RE = new RegExp(
    [
      "\\+?1-\\d{3}-\\d{3}-\\d{4}", // 1-800-222-1222
      "\\d{3}-\\d{3}-\\d{4}", // 800-222-1222
      "0\\d{3} \\d{3} \\d{4}", // 0300 123 6600
      "0\\d{2} \\d{4} \\d{4}", // 020 7946 0000
      "0\\d{4} \\d{6}", // 01632 960000
      "116 \\d{3}", // 116 123
      "911|988|999|112|111"
    ].join("|"),
    "g"
  );
  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  function isPhoneBoundary(text, start, end) {
    var before = start > 0 ? text.charAt(start - 1) : "";
    var after = text.charAt(end);
    if (before && /[0-9A-Za-z_+\-.\/@#$%&=:]/.test(before)) {
      return false;
    }
    if (after && /[0-9A-Za-z_\-\/@%]/.test(after)) {
      return false;
    }
    if ((after === "." || after === ",") && /\d/.test(text.charAt(end + 1))) {
      return false;
    }
    return true;
  }

  function appendPhones(parent, text) {
    var last = 0;
    var match;
    PHONE_RE.lastIndex = 0;
    while ((match = PHONE_RE.exec(text)) !== null) {
      var start = match.index;
      var end = start + match[0].length;
      if (!isPhoneBoundary(text, start, end)) {
        PHONE_RE.lastIndex = start + 1;
        continue;
      }
      if (start > last) {
        parent.appendChild(document.createTextNode(text.slice(last, start)));
      }
      parent.appendChild(telLink(match[0]));
      last = end;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function trimUrl(raw) {
    var url = raw;
    for (;;) {
      var lastChar = url.charAt(url.length - 1);
      if (/[.,;:!?'"*]/.test(lastChar)) {
        url = url.slice(0, -1);
        continue;
      }
      var pairs = { ")": "(", "]": "[", "}": "{" };
      if (pairs[lastChar]) {
        var opens = url.split(pairs[lastChar]).length - 1;
        var closes = url.split(lastChar).length - 1;
        if (closes > opens) {
          url = url.slice(0, -1);
          continue;
        }
      }
      return url;
    }
  }

  function webLink(raw) {
    var parsed;
    try {
      parsed = new URL(raw);
    } catch (err) {
      return null;
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return null;
    }
    var a = el("a", "kc-url", raw);
    a.href = parsed.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.appendChild(hiddenText(" (opens in a new tab)"));
    return a;
  }

  /* Plain text in, DOM nodes out: http(s) URLs and phone numbers become links; everything
     else stays text. */
  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var raw = trimUrl(match[0]);
      var link = raw.length > "https://".length ? webLink(raw) : null;
      if (!link) {
        URL_RE.lastIndex = match.index + 1;
        continue;
      }
      appendPhones(parent, text.slice(last, match.index));
      parent.appendChild(link);
      last = match.index + raw.length;
      URL_RE.lastIndex = last;
    }
    appendPhones(parent, text.slice(last));
  }

  var BULLET_RE = /^\s*[•·]\s+/;

  /* Paragraphs are separated by blank lines; lines starting with "• " form a list. */
  function renderBotText(container, text) {
    var paragraphs = String(text).replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/);
    paragraphs.forEach(function (paragraph) {
      var lines = paragraph.split("\n");
      var list = null;
      var para = null;
      lines.forEach(function (line) {
        if (BULLET_RE.test(line)) {
          para = null;
          if (!list) {
            list = container.appendChild(el("ul", "kc-list"));
          }
          appendLinkified(list.appendChild(el("li")), line.replace(BULLET_RE, ""));
          return;
        }
        list = null;
        if (!line.trim()) {
          return;
        }
        if (para) {
          para.appendChild(el("br"));
        } else {
          para = container.appendChild(el("p", "kc-para"));
        }
        appendLinkified(para, line);
      });
    });
  }

  // ------------------------------------------------------------------ session state

  function newSessionId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      return c.randomUUID();
    }
    var bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function freshState() {
    return { sessionId: newSessionId(), messages: [], quickReplies: [], pending: [], open: false };
  }

  var storage = (function () {
    try {
      var s = window.sessionStorage;
      s.setItem(STORAGE_KEY + ":probe", "1");
      s.removeItem(STORAGE_KEY + ":probe");
      return s;
    } catch (err) {
      return null; // storage disabled: the conversation lives in memory only
    }
  })();

  function isStringArray(value) {
    return Array.isArray(value) && value.every(function (v) {
      return typeof v === "string";
    });
  }

  function cleanQuickReplies(list) {
    if (!Array.isArray(list)) {
      return [];
    }
    return list
      .filter(function (q) {
        return q && typeof q.title === "string" && typeof q.payload === "string" && q.title.trim() && q.payload.trim();
      })
      .slice(0, MAX_QUICK_REPLIES)
      .map(function (q) {
        return { title: q.title, payload: q.payload };
      });
  }

  function loadState() {
    if (!storage) {
      return freshState();
    }
    try {
      var saved = JSON.parse(storage.getItem(STORAGE_KEY) || "null");
      if (!saved || typeof saved.sessionId !== "string" || !Array.isArray(saved.messages)) {
        return freshState();
      }
      return {
        sessionId: saved.sessionId,
        messages: saved.messages.filter(function (m) {
          return m && (m.from === "user" || m.from === "bot") && typeof m.text === "string";
        }),
        quickReplies: cleanQuickReplies(saved.quickReplies),
        pending: isStringArray(saved.pending) ? saved.pending : [],
        open: saved.open === true
      };
    } catch (err) {
      return freshState();
    }
  }

  function saveState() {
    if (!storage) {
      return;
    }
    if (state.messages.length > MAX_STORED_MESSAGES) {
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    }
    try {
      storage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (err) {
      /* quota or privacy mode: keep going from memory */
    }
  }

  var state = loadState();

  // ------------------------------------------------------------------ assets

  function loadScript(src, onload, onerror) {
    var tag = document.createElement("script");
    tag.src = src;
    tag.async = true;
    tag.onload = onload;
    tag.onerror = onerror;
    (document.head || document.documentElement).appendChild(tag);
  }

  function loadStylesheet() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("kratom-chat.css", ASSET_BASE).href;
    (document.head || document.documentElement).appendChild(link);
  }

  var localeData = null;

  function loadLocale() {
    loadScript(
      new URL("locales/" + config.locale + ".js", ASSET_BASE).href,
      function () {
        var all = window.KratomChatLocales || {};
        var data = all[config.locale];
        if (data && Array.isArray(data.numbers)) {
          localeData = data;
        }
        renderEmergency();
      },
      function () {
        renderEmergency();
      }
    );
  }

  var socketIoState = "idle"; // idle | loading | ready | failed
  var socketIoWaiters = [];

  function withSocketIo(callback) {
    if (socketIoState === "ready") {
      callback(true);
      return;
    }
    socketIoWaiters.push(callback);
    if (socketIoState === "loading") {
      return;
    }
    socketIoState = "loading";
    loadScript(
      new URL("/vendor/socket.io.min.js", SCRIPT_URL).href,
      function () {
        socketIoState = typeof window.io === "function" ? "ready" : "failed";
        flushWaiters();
      },
      function () {
        socketIoState = "failed";
        flushWaiters();
      }
    );
  }

  function flushWaiters() {
    var ok = socketIoState === "ready";
    var waiters = socketIoWaiters;
    socketIoWaiters = [];
    if (!ok) {
      socketIoState = "idle"; // try again on the next attempt
    }
    waiters.forEach(function (w) {
      w(ok);
    });
  }

  // ------------------------------------------------------------------ DOM

  var ui = {};
  var uid = "kratom-chat-" + Math.random().toString(36).slice(2, 8);

  function buildUi() {
    var root = el("div", "kc-root");
    root.setAttribute("data-kc-locale", config.locale);

    var launcher = el("button", "kc-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-controls", uid + "-panel");
    launcher.setAttribute("aria-expanded", "false");
    launcher.appendChild(el("span", "kc-launcher-icon")).setAttribute("aria-hidden", "true");
    launcher.appendChild(el("span", "kc-launcher-label", "Ask about kratom"));

    var panel = el("section", "kc-panel");
    panel.id = uid + "-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", uid + "-title");
    panel.setAttribute("aria-describedby", uid + "-disclaimer");

    var header = el("div", "kc-header");
    var headerText = header.appendChild(el("div", "kc-header-text"));
    var title = headerText.appendChild(el("h2", "kc-title", "Kratom information chat"));
    title.id = uid + "-title";
    var disclaimer = headerText.appendChild(el("p", "kc-disclaimer", "General information, not medical advice."));
    disclaimer.id = uid + "-disclaimer";
    var emergency = headerText.appendChild(el("p", "kc-emergency"));
    var close = header.appendChild(el("button", "kc-close"));
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    close.appendChild(el("span", null, "\u00d7")).setAttribute("aria-hidden", "true");

    var intro = el(
      "p",
      "kc-intro",
      "Ask about kratom: what it is, its effects and risks, withdrawal, or where to find help. " +
        "Answers come from an automated assistant."
    );

    var log = el("div", "kc-log");
    log.id = uid + "-log";
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", "Conversation");
    log.tabIndex = 0;

    var status = el("div", "kc-status");
    status.setAttribute("role", "status");
    var typing = status.appendChild(el("div", "kc-typing"));
    typing.hidden = true;
    for (var i = 0; i < 3; i += 1) {
      typing.appendChild(el("span", "kc-dot")).setAttribute("aria-hidden", "true");
    }
    typing.appendChild(hiddenText("The assistant is typing\u2026"));
    var statusText = status.appendChild(el("span", "kc-visually-hidden"));

    var notice = el("div", "kc-notice");
    notice.setAttribute("role", "alert");

    var replies = el("div", "kc-replies");
    replies.setAttribute("role", "group");
    replies.setAttribute("aria-label", "Suggested replies");
    replies.hidden = true;

    var form = el("form", "kc-composer");
    form.noValidate = true;
    var label = form.appendChild(el("label", "kc-visually-hidden", "Your message"));
    label.htmlFor = uid + "-input";
    var input = form.appendChild(el("textarea", "kc-input"));
    input.id = uid + "-input";
    input.name = "message";
    input.rows = 2;
    input.maxLength = MAX_INPUT_CHARS;
    input.placeholder = "Type your question\u2026";
    input.setAttribute("autocomplete", "off");
    var send = form.appendChild(el("button", "kc-send", "Send"));
    send.type = "submit";

    var footer = el("div", "kc-footer");
    var clear = footer.appendChild(el("button", "kc-clear", "Clear conversation"));
    clear.type = "button";
    footer.appendChild(el("span", "kc-privacy", "Kept in this tab only."));

    [header, intro, log, status, notice, replies, form, footer].forEach(function (part) {
      panel.appendChild(part);
    });
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    ui = {
      root: root,
      launcher: launcher,
      panel: panel,
      emergency: emergency,
      close: close,
      intro: intro,
      log: log,
      typing: typing,
      statusText: statusText,
      notice: notice,
      replies: replies,
      form: form,
      input: input,
      clear: clear
    };

    launcher.addEventListener("click", function () {
      openPanel(true);
    });
    close.addEventListener("click", closePanel);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitInput();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitInput();
      }
    });
    clear.addEventListener("click", clearConversation);
  }

  function renderEmergency() {
    var box = ui.emergency;
    if (!box) {
      return;
    }
    box.textContent = "";
    var first = localeData && localeData.numbers[0];
    if (first) {
      box.appendChild(document.createTextNode("In an emergency, call "));
      box.appendChild(telLink(first.phone, "kc-tel kc-tel-header"));
      box.appendChild(document.createTextNode("."));
    } else {
      box.textContent = "In an emergency, call your local emergency number.";
    }
    if (currentNotice) {
      renderNotice(currentNotice);
    }
  }

  function messageNode(message) {
    var wrap = el("div", "kc-msg kc-msg-" + message.from);
    wrap.appendChild(hiddenText(message.from === "user" ? "You said: " : "Assistant: "));
    var bubble = wrap.appendChild(el("div", "kc-bubble"));
    if (message.from === "bot") {
      renderBotText(bubble, message.text);
    } else {
      bubble.textContent = message.text;
    }
    return wrap;
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function renderLog() {
    ui.log.textContent = "";
    state.messages.forEach(function (m) {
      ui.log.appendChild(messageNode(m));
    });
    ui.intro.hidden = state.messages.length > 0;
    renderQuickReplies();
    scrollToEnd();
  }

  function appendMessage(message) {
    state.messages.push(message);
    ui.log.appendChild(messageNode(message));
    ui.intro.hidden = true;
    scrollToEnd();
  }

  function renderQuickReplies() {
    var box = ui.replies;
    box.textContent = "";
    state.quickReplies.forEach(function (reply) {
      var button = box.appendChild(el("button", "kc-reply", reply.title));
      button.type = "button";
      button.addEventListener("click", function () {
        sendMessage(reply.payload, reply.title);
        ui.input.focus();
      });
    });
    box.hidden = state.quickReplies.length === 0;
  }

  function announce(text) {
    ui.statusText.textContent = "";
    window.setTimeout(function () {
      ui.statusText.textContent = text;
    }, 50);
  }

  // ------------------------------------------------------------------ notices

  var currentNotice = null; // null | "offline" | "noreply"

  var NOTICE_TEXT = {
    offline: {
      title: "We can\u2019t reach the assistant right now.",
      after: "We keep trying to reconnect; messages you type will be sent when the connection is back."
    },
    noreply: {
      title: "The assistant hasn\u2019t answered yet.",
      after: "It may be busy or unreachable. If an answer arrives, it will appear here."
    }
  };

  function renderNotice(kind) {
    var box = ui.notice;
    box.textContent = "";
    var inner = box.appendChild(el("div", "kc-notice-inner kc-notice-" + kind));
    inner.appendChild(el("p", "kc-notice-title", NOTICE_TEXT[kind].title));
    inner.appendChild(el("p", null, "If you or someone else may be in danger, don\u2019t wait for the chat:"));
    if (localeData) {
      var list = inner.appendChild(el("ul", "kc-numbers"));
      localeData.numbers.forEach(function (n) {
        var item = list.appendChild(el("li"));
        item.appendChild(telLink(n.phone, "kc-tel kc-call"));
        item.appendChild(el("span", "kc-number-text", " " + n.name + ": " + n.when));
      });
    } else {
      inner.appendChild(el("p", "kc-numbers-missing", "Call your local emergency number."));
    }
    inner.appendChild(el("p", "kc-notice-after", NOTICE_TEXT[kind].after));
  }

  function showNotice(kind) {
    if (currentNotice === kind || (currentNotice === "offline" && kind === "noreply")) {
      return;
    }
    currentNotice = kind;
    hideTyping();
    renderNotice(kind);
  }

  function hideNotice(kind) {
    if (currentNotice && (!kind || currentNotice === kind)) {
      currentNotice = null;
      ui.notice.textContent = "";
    }
  }

  // ------------------------------------------------------------------ typing / timeouts

  var replyTimer = null;

  function showTyping() {
    ui.typing.hidden = false;
  }

  function hideTyping() {
    ui.typing.hidden = true;
  }

  function startReplyTimer() {
    stopReplyTimer();
    replyTimer = window.setTimeout(function () {
      replyTimer = null;
      hideTyping();
      showNotice("noreply");
    }, config.replyTimeoutMs);
  }

  function stopReplyTimer() {
    if (replyTimer !== null) {
      window.clearTimeout(replyTimer);
      replyTimer = null;
    }
  }

  // ------------------------------------------------------------------ socket

  var socket = null;
  var sessionReady = false;
  var retryTimer = null;

  function serverTarget() {
    try {
      var url = new URL(config.serverUrl);
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return null;
      }
      return { origin: url.origin, path: url.pathname.replace(/\/+$/, "") + config.socketPath };
    } catch (err) {
      return null;
    }
  }

  function scheduleRetry(delay) {
    if (retryTimer !== null) {
      return;
    }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    if (socket) {
      if (!socket.connected && !socket.active) {
        socket.connect();
      }
      return;
    }
    var target = serverTarget();
    if (!target) {
      showNotice("offline");
      return;
    }
    withSocketIo(function (ok) {
      if (!ok) {
        showNotice("offline");
        scheduleRetry(5000);
        return;
      }
      if (socket) {
        return;
      }
      socket = window.io(target.origin, {
        path: target.path,
        transports: ["websocket"],
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000,
        timeout: 8000,
        autoConnect: false
      });
      socket.on("connect", onConnect);
      socket.on("connect_error", onConnectError);
      socket.on("disconnect", onDisconnect);
      socket.on("session_confirm", onSessionConfirm);
      socket.on("bot_uttered", onBotUttered);
      socket.connect();
    });
  }

  function onConnect() {
    sessionReady = false;
    var wasOffline = currentNotice === "offline";
    hideNotice("offline");
    if (wasOffline) {
      announce("Connected to the assistant again.");
    }
    socket.emit("session_request", { session_id: state.sessionId });
  }

  function onConnectError() {
    sessionReady = false;
    showNotice("offline");
    if (socket && !socket.active) {
      scheduleRetry(5000); // refused by the server: socket.io will not retry by itself
    }
  }

  function onDisconnect(reason) {
    sessionReady = false;
    if (reason === "io client disconnect") {
      return; // we asked for it (clear conversation)
    }
    showNotice("offline");
    if (reason === "io server disconnect") {
      scheduleRetry(2000); // socket.io does not reconnect by itself after this one
    }
  }

  function onSessionConfirm(data) {
    var id = typeof data === "string" ? data : data && data.session_id;
    if (id && id !== state.sessionId) {
      return; // a confirmation for a conversation that was cleared meanwhile
    }
    sessionReady = true;
    flushPending();
  }

  function flushPending() {
    if (!socket || !socket.connected || !sessionReady) {
      return;
    }
    var sentAny = false;
    while (state.pending.length) {
      socket.emit("user_uttered", {
        message: state.pending.shift(),
        session_id: state.sessionId,
        metadata: { locale: config.locale }
      });
      sentAny = true;
    }
    if (sentAny) {
      saveState();
      showTyping();
      startReplyTimer();
    }
  }

  function onBotUttered(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    stopReplyTimer();
    hideTyping();
    hideNotice("noreply");
    var text = typeof data.text === "string" ? data.text : "";
    if (text.trim()) {
      appendMessage({ from: "bot", text: text });
    }
    var quick = cleanQuickReplies(data.quick_replies || data.buttons);
    if (quick.length) {
      state.quickReplies = quick;
      renderQuickReplies();
    }
    saveState();
  }

  // ------------------------------------------------------------------ actions

  function sendMessage(payload, shownText) {
    var message = String(payload).slice(0, MAX_INPUT_CHARS);
    if (!message.trim()) {
      return false;
    }
    appendMessage({ from: "user", text: String(shownText) });
    state.quickReplies = [];
    renderQuickReplies();
    state.pending.push(message);
    saveState();
    // A "hasn't answered" notice stays until an answer arrives: the numbers stay in view.
    if (currentNotice !== "offline") {
      showTyping();
    }
    startReplyTimer();
    connect();
    flushPending();
    return true;
  }

  function submitInput() {
    var text = ui.input.value;
    if (!text.trim()) {
      ui.input.value = "";
      ui.input.focus();
      return;
    }
    if (sendMessage(text.trim(), text.trim())) {
      ui.input.value = "";
    }
    ui.input.focus();
  }

  function openPanel(moveFocus) {
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    scrollToEnd();
    connect();
    if (moveFocus) {
      ui.input.focus();
    }
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    ui.launcher.focus();
  }

  function clearConversation() {
    stopReplyTimer();
    hideTyping();
    hideNotice("noreply");
    state = freshState();
    state.open = true;
    if (storage) {
      try {
        storage.removeItem(STORAGE_KEY);
      } catch (err) {
        /* ignore */
      }
    }
    saveState();
    renderLog();
    sessionReady = false;
    if (socket) {
      // A new connection leaves the old conversation's room on the server.
      socket.disconnect();
      socket.connect();
    }
    announce("Conversation cleared.");
    ui.input.value = "";
    ui.input.focus();
  }

  // ------------------------------------------------------------------ start

  function start() {
    withSocketIo(function () {}); // fetch it now, while the widget's own server is reachable
    buildUi();
    renderEmergency();
    renderLog();
    loadLocale();
    if (state.open) {
      openPanel(false);
    } else if (state.pending.length) {
      connect();
    }
  }

  window.KratomChatWidget = {
    version: "0.1.0",
    open: function () {
      openPanel(true);
    },
    close: closePanel
  };

  loadStylesheet();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
