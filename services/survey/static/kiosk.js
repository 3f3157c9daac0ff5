/* congso kiosk page: progressive enhancement of a plain HTML form (no framework).
 * Without this script the form posts and the server answers with a page.
 * With it: ratings go to the JSON API; in kiosk mode the page resets for the next citizen;
 * a rating that cannot be sent (network down, server busy) is kept in localStorage with
 * its client_id and sent again until the server has it, so nothing is counted twice.
 * Each rating carries `given_at`, the moment the citizen pressed the button (the queue
 * sends it later: survey judges it by when it was given), and on a registered tablet
 * (`?kiosk=1&device=ID`) the tablet's `device` id. */
(function () {
  "use strict";
  var form = document.getElementById("rating-form");
  if (!form || !window.fetch || !window.JSON || !window.FormData) return;

  var T = JSON.parse(document.getElementById("kiosk-text").textContent);
  var api = form.getAttribute("data-api");
  var token = form.getAttribute("data-counter-token");
  var kiosk = form.getAttribute("data-kiosk") === "1";
  var device = form.getAttribute("data-device");
  var resetSeconds = parseInt(form.getAttribute("data-reset-seconds"), 10) || 10;
  var KEY = "congso.pending." + token;
  var FACTORS = ["access", "procedure", "official", "result", "feedback"];
  var statusBox = document.getElementById("status");
  var thanks = document.getElementById("thanks");
  var thanksText = document.getElementById("thanks-text");
  var pendingBox = document.getElementById("pending");
  var pendingCount = document.getElementById("pending-count");
  var button = form.querySelector("button[type=submit]");
  var buttonText = button.textContent;
  var flushing = false;
  var resetTimer = null;

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = "";
    for (var i = 0; i < 16; i++) h += (b[i] + 0x100).toString(16).slice(1);
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  // now, as ISO 8601 with the device's own offset: 2026-05-04T09:15:02.123+07:00
  function isoNow() {
    var d = new Date();
    var pad = function (n, w) { return String(n).padStart(w || 2, "0"); };
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
      pad(d.getMilliseconds(), 3) + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(queue) {
    try { localStorage.setItem(KEY, JSON.stringify(queue)); } catch (e) { /* full: keep in memory */ }
    showPending();
  }
  function enqueue(body) {
    var queue = loadQueue();
    queue.push(body);
    saveQueue(queue);
  }
  function forget(clientId) {
    saveQueue(loadQueue().filter(function (b) { return b.client_id !== clientId; }));
  }
  function showPending() {
    var n = loadQueue().length;
    pendingBox.hidden = n === 0;
    pendingCount.textContent = String(n);
  }
  function say(text) {
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
  }

  function bodyFromForm() {
    var data = new FormData(form);
    var body = { counter_token: token, client_id: uuid4(), given_at: isoNow(),
                 overall: parseInt(data.get("overall"), 10) };
    if (device) body.device = device;
    var official = data.get("official");
    if (official) body.official = official;
    var factors = {};
    FACTORS.forEach(function (key) {
      var v = data.get("factor_" + key);
      if (v) factors[key] = parseInt(v, 10);
    });
    if (Object.keys(factors).length) body.factors = factors;
    var comment = (data.get("comment") || "").trim();
    if (comment) body.comment = comment;
    var receipt = (data.get("receipt_code") || "").trim();
    if (receipt) body.receipt_code = receipt;
    return body;
  }

  function post(body) {
    return fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store"
    });
  }

  // Is a failed answer worth trying again later? Network errors, 5xx, 408 and 429 are;
  // any other 4xx never will succeed, so keeping it would block the queue forever.
  function retriable(status) {
    return status >= 500 || status === 408 || status === 429;
  }

  function flush() {
    if (flushing) return Promise.resolve();
    var queue = loadQueue();
    if (!queue.length) return Promise.resolve();
    flushing = true;
    var chain = Promise.resolve();
    queue.forEach(function (body) {
      chain = chain.then(function () {
        return post(body).then(function (r) {
          if (r.ok || !retriable(r.status)) forget(body.client_id);
        }, function () { /* still offline: keep it */ });
      });
    });
    return chain.then(function () { flushing = false; showPending(); },
                      function () { flushing = false; });
  }

  function finished(queued) {
    thanksText.textContent = queued ? thanksText.getAttribute("data-queued")
                                    : thanksText.getAttribute("data-sent");
    form.hidden = true;
    thanks.hidden = false;
    say("");
    thanks.focus();
    button.disabled = false;
    button.textContent = buttonText;
    if (kiosk) {
      clearTimeout(resetTimer);
      resetTimer = setTimeout(nextCitizen, resetSeconds * 1000);
    }
  }

  function nextCitizen() {
    clearTimeout(resetTimer);
    form.reset();
    var details = form.querySelector("details");
    if (details) details.open = false;
    thanks.hidden = true;
    form.hidden = false;
    window.scrollTo(0, 0);
  }

  function refuse(message) {
    say(message);
    button.disabled = false;
    button.textContent = buttonText;
    statusBox.setAttribute("tabindex", "-1");
    statusBox.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!new FormData(form).get("overall")) {
      refuse(T.error_overall);
      var first = form.querySelector("input[name=overall]");
      if (first) first.focus();
      return;
    }
    var body = bodyFromForm();
    button.disabled = true;
    button.textContent = button.getAttribute("data-sending");
    post(body).then(function (r) {
      if (r.ok) return finished(false);
      if (retriable(r.status) && r.status !== 429) { enqueue(body); return finished(true); }
      if (r.status === 429) return refuse(T.error_rate_limited);
      if (r.status === 409) return refuse(T.error_receipt_used);
      if (r.status === 404) return refuse(T.unknown_counter_text);
      return refuse(T.error_fields);
    }, function () {
      enqueue(body);
      finished(true);
    });
  });

  document.getElementById("again").addEventListener("click", nextCitizen);
  window.addEventListener("online", function () { say(""); flush(); });
  window.addEventListener("offline", function () { say(T.offline); });
  setInterval(flush, 15000);
  showPending();
  flush();
})();
