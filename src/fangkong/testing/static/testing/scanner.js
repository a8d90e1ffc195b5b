// The sampler's scanner page: every form of the tube panel posts in the background and the panel
// is replaced by the server's answer. An add carries a client-generated id and is retried with the
// same id when the network fails, so a retry never stores a person twice.
(function () {
  "use strict";

  var RETRY_DELAYS = [500, 1000, 2000, 4000, 8000];

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function panel() { return document.getElementById("tube-panel"); }

  function message(name) {
    var box = document.getElementById("camera");
    return box ? box.dataset[name] : "";
  }

  function setStatus(text) {
    var status = document.getElementById("scanner-status");
    if (status) { status.textContent = text; }
  }

  function replacePanel(html) {
    var current = panel();
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.querySelector("#tube-panel");
    if (!current || !fresh) { return; }
    var room = current.querySelector("#roster-room");
    current.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
    prepareCameraButtons(fresh);
    var input = fresh.querySelector("input[autofocus]");
    if (input) { input.focus(); }
    keepRoster(fresh, room ? room.value : "");
  }

  // A household is sampled one member after another: the room searched stays on screen.
  function keepRoster(fresh, room) {
    var search = fresh.querySelector("#roster-room");
    if (!room || !search || !window.htmx) { return; }
    search.value = room;
    window.htmx.trigger(search, "input");
  }

  function send(form, data, attempt) {
    var busy = form.querySelectorAll("button");
    busy.forEach(function (b) { b.disabled = true; });
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"HX-Request": "true", "X-Requested-With": "XMLHttpRequest"}
    }).then(function (response) {
      return response.text().then(function (html) {
        if (response.status >= 500) { throw new Error("server " + response.status); }
        replacePanel(html);
      });
    }).catch(function () {
      busy.forEach(function (b) { b.disabled = false; });
      if (attempt >= RETRY_DELAYS.length) {
        setStatus(message("failed"));
        return;
      }
      setStatus(message("retrying"));
      return new Promise(function (resolve) {
        setTimeout(function () { resolve(send(form, data, attempt + 1)); }, RETRY_DELAYS[attempt]);
      });
    });
  }

  function submit(form, extra) {
    var data = new FormData(form);
    if (form.querySelector("input[name=client_id]")) { data.set("client_id", newClientId()); }
    Object.keys(extra || {}).forEach(function (key) { data.set(key, extra[key]); });
    setStatus("");
    return send(form, data, 0);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-scanner-post]")) { return; }
    event.preventDefault();
    var text = form.querySelector("input[name=text], input[name=barcode]");
    if (text && !text.value.trim()) { text.focus(); return; }
    submit(form);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".roster-person");
    if (!button || button.disabled) { return; }
    var form = document.getElementById("person-form");
    if (form) { button.disabled = true; submit(form, {person: button.dataset.person, text: ""}); }
  });

  // Camera scanning where the browser has BarcodeDetector; typing works everywhere.
  var FORMATS = ["qr_code", "code_128", "ean_13"];
  var stream = null;
  var scanning = false;

  function cameraSupported() {
    return "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  }

  function prepareCameraButtons(root) {
    if (!cameraSupported()) { return; }
    root.querySelectorAll("[data-camera]").forEach(function (b) { b.hidden = false; });
  }

  function stopCamera() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    var box = document.getElementById("camera");
    if (box) { box.hidden = true; }
  }

  function startCamera(inputId) {
    var box = document.getElementById("camera");
    var video = document.getElementById("camera-video");
    var detector = new window.BarcodeDetector({formats: FORMATS});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (media) {
      stream = media;
      video.srcObject = media;
      box.hidden = false;
      scanning = true;
      return video.play();
    }).then(function () {
      var tick = function () {
        if (!scanning) { return; }
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            var input = document.getElementById(inputId);
            stopCamera();
            if (input) { input.value = codes[0].rawValue; input.form.requestSubmit(); }
          } else {
            setTimeout(tick, 250);
          }
        }).catch(function () { setTimeout(tick, 500); });
      };
      tick();
    }).catch(function () {
      stopCamera();
      setStatus(message("noCamera"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-camera]");
    if (button) { startCamera(button.dataset.camera); }
    if (event.target.id === "camera-stop") { stopCamera(); }
  });

  document.addEventListener("DOMContentLoaded", function () { prepareCameraButtons(document); });
})();
