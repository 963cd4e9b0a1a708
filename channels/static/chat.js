// Plain web chat over Rasa's socketio connector. Text is always inserted with
// textContent, never as HTML, so no message can inject markup or script.
(function () {
  "use strict";
  var STORAGE_KEY = "clinic-chat-session";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var send = document.getElementById("send");
  var statusEl = document.getElementById("status");

  function randomId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var sessionId = window.localStorage.getItem(STORAGE_KEY);
  if (!sessionId || !/^[a-f0-9]{32}$/.test(sessionId)) {
    sessionId = randomId();
    window.localStorage.setItem(STORAGE_KEY, sessionId);
  }

  function addMessage(who, text) {
    var item = document.createElement("li");
    item.className = "msg " + who;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function addButtons(buttons) {
    var item = document.createElement("li");
    item.className = "buttons";
    buttons.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", function () {
        item.remove();
        addMessage("user", b.title);
        socket.emit("user_uttered", { message: b.payload, session_id: sessionId });
      });
      item.appendChild(button);
    });
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  var socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });

  socket.on("connect", function () {
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("session_confirm", function () {
    statusEl.textContent = "Connected";
    input.disabled = false; send.disabled = false;
    input.focus();
  });
  socket.on("disconnect", function () {
    statusEl.textContent = "Reconnecting…";
    input.disabled = true; send.disabled = true;
  });
  socket.on("bot_uttered", function (message) {
    if (message.text) { addMessage("bot", message.text); }
    var buttons = message.quick_replies || message.buttons;
    if (buttons && buttons.length) { addButtons(buttons); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    addMessage("user", text);
    socket.emit("user_uttered", { message: text, session_id: sessionId });
    input.value = "";
  });
})();
