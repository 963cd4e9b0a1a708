// Clinic chat widget: one script tag adds a launcher button and a chat panel.
//
//   <script src="https://clinic-host/webhooks/chat/widget.js" data-server="https://clinic-host" defer></script>
//
// Web chat mode talks socket.io to the Rasa server; portal mode
// (data-mode="portal", token from ClinicChat.init({mode: "portal", token: ...}))
// posts to /webhooks/portal/webhook with the portal's token.
// Message text only ever goes into the page through textContent and text
// nodes, never as HTML, so no message can inject markup or script. The session
// id and the rendered history live in sessionStorage: they end with the tab.
(function () {
  "use strict";
  if (window.ClinicChat && window.ClinicChat.version) { return; }

  var script = document.currentScript;
  var scriptUrl = new URL(script && script.src ? script.src : "widget.js", document.baseURI);
  var assetBase = new URL(".", scriptUrl).href;
  var data = function (name) { return script ? script.getAttribute("data-" + name) : null; };
  var config = {
    server: (data("server") || scriptUrl.origin).replace(/\/+$/, ""),
    mode: data("mode") === "portal" ? "portal" : "socket",
    title: data("title") || "Clinic assistant",
    token: null,
    pollSeconds: Math.max(1, Number(data("poll-seconds")) || 5)  // portal mode: how often to ask for staff replies
  };
  var MAX_CHARS = 2000;
  var MAX_HISTORY = 200;
  var TEXT = {
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Connection lost. Reconnecting…",
    cannotConnect: "The chat cannot connect right now. Please try again later or call the clinic.",
    newSession: "A new conversation has started.",
    signIn: "Your portal session has ended. Please sign in again.",
    unavailable: "The chat is not available right now. Please try again later or call the clinic.",
    failed: "Sorry, your message did not go through. Please try again.",
    tooLong: "That message is too long. Please send it in shorter parts."
  };

  var ui = null;           // DOM elements, built once
  var state = null;        // {sessionId, owner, open, history: [...]}
  var socket = null;
  var ready = false;       // socket mode: session confirmed; portal mode: always
  var typingTimer = null;
  var everConnected = false;

  // ---------- storage (sessionStorage: ends with the tab) ----------
  function storageKey() { return "clinic-chat:" + config.mode + ":" + config.server; }
  function loadState() {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(storageKey()) || "null"); } catch (e) { saved = null; }
    if (!saved || !Array.isArray(saved.history)) { saved = { sessionId: null, owner: null, open: false, history: [] }; }
    return saved;
  }
  function saveState() {
    state.history = state.history.slice(-MAX_HISTORY);
    try { window.sessionStorage.setItem(storageKey(), JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  // ---------- DOM helpers ----------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  // Text with http(s) links made clickable; everything else stays plain text.
  function appendRichText(parent, text) {
    var pattern = /\bhttps?:\/\/[^\s<>"']+/gi;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var parsed = null;
      try { parsed = new URL(url); } catch (e) { parsed = null; }
      if (parsed && (parsed.protocol === "https:" || parsed.protocol === "http:")) {
        var link = el("a", "cc-link", url);
        link.href = parsed.href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        parent.appendChild(link);
      } else {
        parent.appendChild(document.createTextNode(url));
      }
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  function renderEntry(entry, withButtons) {
    if (entry.text) {
      var item = el("li", "cc-msg cc-" + (entry.who === "user" ? "user" : entry.who === "note" ? "note" : "bot"));
      var who = el("span", "cc-sr", entry.who === "user" ? "You: " : entry.who === "note" ? "" : "Assistant: ");
      item.appendChild(who);
      appendRichText(item, String(entry.text));
      ui.log.appendChild(item);
    }
    if (withButtons && entry.buttons && entry.buttons.length && !entry.used) { renderButtons(entry); }
  }

  function renderButtons(entry) {
    var item = el("li", "cc-choices");
    var group = el("div", "cc-choice-group");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Quick replies");
    entry.buttons.forEach(function (button) {
      var b = el("button", "cc-choice", String(button.title || ""));
      b.type = "button";
      b.addEventListener("click", function () {
        if (!ready) { return; }
        entry.used = true;
        // The server's "Send again" button carries the failed message's id: a resend is recognised.
        send(String(button.payload || button.title || ""), String(button.title || ""), button.messageId);
        ui.input.focus();
      });
      group.appendChild(b);
    });
    item.appendChild(group);
    ui.log.appendChild(item);
  }

  function removeButtons() {
    state.history.forEach(function (entry) { if (entry.buttons) { entry.used = true; } });
    Array.prototype.slice.call(ui.log.querySelectorAll(".cc-choices")).forEach(function (node) {
      node.parentNode.removeChild(node);
    });
  }

  function add(entry) {
    if (entry.buttons && entry.buttons.length) { removeButtons(); }
    state.history.push(entry);
    saveState();
    renderEntry(entry, true);
    scrollDown();
  }

  function redraw() {
    while (ui.log.firstChild) { ui.log.removeChild(ui.log.firstChild); }
    var lastWithButtons = -1;
    state.history.forEach(function (entry, i) { if (entry.buttons && entry.buttons.length) { lastWithButtons = i; } });
    state.history.forEach(function (entry, i) { renderEntry(entry, i === lastWithButtons); });
    scrollDown();
  }

  function setStatus(text) { ui.status.textContent = text; }

  function setReady(value) {
    ready = value;
    ui.input.disabled = !value;
    ui.sendButton.disabled = !value;
    Array.prototype.slice.call(ui.log.querySelectorAll(".cc-choice")).forEach(function (b) { b.disabled = !value; });
  }

  function setTyping(on) {
    window.clearTimeout(typingTimer);
    ui.typing.hidden = !on;
    if (on) {
      typingTimer = window.setTimeout(function () { ui.typing.hidden = true; }, 60000);
      scrollDown();
    }
  }

  // ---------- the panel ----------
  function build() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = assetBase + "widget.css";
    document.head.appendChild(link);

    var root = el("div", "cc-root");
    var launcher = el("button", "cc-launcher", "Chat with us");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "clinic-chat-panel");
    launcher.setAttribute("aria-label", "Chat with us: open the " + config.title.toLowerCase());

    var panel = el("section", "cc-panel");
    panel.id = "clinic-chat-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "clinic-chat-title");

    var header = el("header", "cc-header");
    var titles = el("div", "cc-titles");
    var title = el("h2", "cc-title", config.title);
    title.id = "clinic-chat-title";
    var status = el("p", "cc-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    titles.appendChild(title);
    titles.appendChild(status);
    var close = el("button", "cc-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    header.appendChild(titles);
    header.appendChild(close);

    var log = el("ol", "cc-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", "Conversation");
    log.tabIndex = 0;

    var typing = el("p", "cc-typing");
    typing.hidden = true;
    typing.appendChild(el("span", "cc-sr", "The assistant is typing"));
    typing.appendChild(el("span", "cc-dot"));
    typing.appendChild(el("span", "cc-dot"));
    typing.appendChild(el("span", "cc-dot"));

    var form = el("form", "cc-form");
    form.setAttribute("autocomplete", "off");
    var label = el("label", "cc-sr", "Your message");
    label.htmlFor = "clinic-chat-input";
    var input = el("input", "cc-input");
    input.id = "clinic-chat-input";
    input.type = "text";
    input.maxLength = MAX_CHARS;
    input.placeholder = "Type your message…";
    var sendButton = el("button", "cc-send", "Send");
    sendButton.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendButton);

    var note = el("p", "cc-footnote", "In an emergency call 911. Replies come from a virtual assistant unless you ask for a person.");

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    panel.appendChild(note);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    ui = { root: root, launcher: launcher, panel: panel, status: status, close: close, log: log,
      typing: typing, form: form, input: input, sendButton: sendButton };

    launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { closePanel(); } });
    close.addEventListener("click", closePanel);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closePanel(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || !ready) { return; }
      if (text.length > MAX_CHARS) { add({ who: "note", text: TEXT.tooLong }); return; }
      input.value = "";
      send(text, text);
    });
  }

  function open() {
    ui.panel.hidden = false;
    ui.root.classList.add("cc-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    start();
    scrollDown();
    (ui.input.disabled ? ui.close : ui.input).focus();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.root.classList.remove("cc-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    ui.launcher.focus();
  }

  // ---------- sending and receiving ----------
  // A fresh random id for every message the patient sends (32 hex digits), so
  // the server answers a resend of it once.
  function newMessageId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function send(payload, shownText, messageId) {
    removeButtons();
    add({ who: "user", text: shownText });
    setTyping(true);
    if (config.mode === "portal") { portalSend(payload); return; }
    socket.emit("user_uttered", { message: payload, session_id: state.sessionId, message_id: messageId || newMessageId() });
  }

  function receive(message) {
    if (!message || typeof message !== "object") { return; }
    var buttons = message.quick_replies || message.buttons || [];
    buttons = Array.isArray(buttons) ? buttons.filter(function (b) { return b && b.title; }).map(function (b) {
      var button = { title: String(b.title), payload: String(b.payload || b.title) };
      if (typeof b.message_id === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(b.message_id)) { button.messageId = b.message_id; }
      return button;
    }) : [];
    var text = typeof message.text === "string" ? message.text : "";
    if (!text && !buttons.length) { return; }
    add({ who: "bot", text: text, buttons: buttons, used: false });
  }

  // Web chat: socket.io to the Rasa server, with the issued session id.
  function loadSocketClient(callback) {
    var previous = window.io;
    var tag = document.createElement("script");
    tag.src = assetBase + "static/vendor/socket.io.min.js";
    tag.onload = function () {
      var ours = window.io;
      if (previous) { window.io = previous; }  // leave the host page's own socket.io alone
      callback(ours);
    };
    tag.onerror = function () { setStatus(TEXT.unavailable); };
    document.head.appendChild(tag);
  }

  function startSocket() {
    setStatus(TEXT.connecting);
    setReady(false);
    loadSocketClient(function (io) {
      socket = io(config.server, { path: "/socket.io", transports: ["websocket"], reconnectionDelayMax: 5000 });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (sessionId) {
        if (state.sessionId && sessionId !== state.sessionId && state.history.length) {
          add({ who: "note", text: TEXT.newSession });
        }
        state.sessionId = String(sessionId);
        everConnected = true;
        saveState();
        setStatus(TEXT.connected);
        setReady(true);
        if (!ui.panel.hidden && document.activeElement === ui.close) { ui.input.focus(); }
      });
      socket.on("bot_uttered", function (message) { receive(message); });
      socket.on("bot_typing", function (event) { setTyping(Boolean(event && event.typing)); });
      socket.on("connect_error", function () {
        setReady(false);
        setStatus(everConnected ? TEXT.reconnecting : TEXT.cannotConnect);
      });
      socket.on("disconnect", function (reason) {
        setReady(false);
        setTyping(false);
        setStatus(TEXT.reconnecting);
        if (reason === "io server disconnect") { window.setTimeout(function () { socket.connect(); }, 1000); }
      });
    });
  }

  // Portal mode: HTTP with the portal's token.
  function tokenOwner(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return String(JSON.parse(window.atob(part)).sub || "");
    } catch (e) { return ""; }
  }

  function portalSend(payload) {
    if (!config.token) { setTyping(false); add({ who: "note", text: TEXT.signIn }); return; }
    setReady(false);
    window.fetch(config.server + "/webhooks/portal/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + config.token },
      body: JSON.stringify({ message: payload }),
      credentials: "omit"
    }).then(function (reply) {
      if (reply.status === 401) { throw new Error("signin"); }
      if (!reply.ok) { throw new Error("unavailable"); }
      return reply.json();
    }).then(function (messages) {
      (Array.isArray(messages) ? messages : []).forEach(receive);
    }).catch(function (error) {
      var reason = error && error.message;
      add({ who: "note", text: reason === "signin" ? TEXT.signIn : reason === "unavailable" ? TEXT.unavailable : TEXT.failed });
    }).then(function () {
      setTyping(false);
      setReady(true);
    });
  }

  // Portal mode: what a person from the front desk writes during a hand-off
  // cannot be pushed over HTTP, so the widget asks for it now and then.
  var pollTimer = null;
  function schedulePoll() {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(portalPoll, config.pollSeconds * 1000);
  }
  function portalPoll() {
    if (!config.token || document.hidden) { schedulePoll(); return; }
    var after = typeof state.latest === "number" ? state.latest : 0;
    window.fetch(config.server + "/webhooks/portal/updates?after=" + encodeURIComponent(String(after)), {
      method: "GET",
      headers: { "Authorization": "Bearer " + config.token },
      credentials: "omit"
    }).then(function (reply) {
      return reply.ok ? reply.json() : null;
    }).then(function (body) {
      if (!body || !Array.isArray(body.messages)) { return; }
      body.messages.forEach(receive);
      if (typeof body.latest === "number" && body.latest > after) { state.latest = body.latest; saveState(); }
    }).catch(function () { /* try again at the next tick */ }).then(schedulePoll);
  }

  var started = false;
  function start() {
    if (started) { return; }
    started = true;
    if (config.mode === "portal") { setStatus(""); setReady(true); portalPoll(); } else { startSocket(); }
  }

  function boot() {
    if (ui) { return; }
    state = loadState();
    if (config.mode === "portal" && config.token) {
      var owner = tokenOwner(config.token);
      if (state.owner && owner && state.owner !== owner) { state = { sessionId: null, owner: owner, open: false, history: [] }; }
      state.owner = owner || state.owner;
    }
    build();
    redraw();
    if (state.open) { open(); }
  }

  window.ClinicChat = {
    version: "1",
    // Configure (mode, token, server, title) and show the launcher.
    init: function (options) {
      options = options || {};
      if (!ui) {
        if (options.mode === "portal" || options.mode === "socket") { config.mode = options.mode; }
        if (options.server) { config.server = String(options.server).replace(/\/+$/, ""); }
        if (options.title) { config.title = String(options.title); }
        if (Number(options.pollSeconds) >= 1) { config.pollSeconds = Number(options.pollSeconds); }
      }
      if (options.token) { this.setToken(options.token); }
      whenReady(boot);
    },
    // Portal mode: a fresh token from the portal (a new sign-in or a refresh).
    setToken: function (token) {
      config.token = token ? String(token) : null;
      if (state && config.token) {
        var owner = tokenOwner(config.token);
        if (state.owner && owner && owner !== state.owner) { this.reset(); }
        state.owner = owner || state.owner;
        saveState();
      }
    },
    open: function () { whenReady(function () { boot(); open(); }); },
    close: function () { if (ui) { closePanel(); } },
    // Forget the conversation shown in this tab (e.g. when the patient signs out).
    reset: function () {
      try { window.sessionStorage.removeItem(storageKey()); } catch (e) { /* ignore */ }
      if (state) { state.history = []; state.sessionId = null; state.owner = null; state.latest = null; }
      if (ui) { redraw(); }
    }
  };

  function whenReady(callback) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", callback); } else { callback(); }
  }

  // Portal pages configure the widget through ClinicChat.init; web chat starts by itself.
  if (config.mode === "socket") { whenReady(boot); }
})();
