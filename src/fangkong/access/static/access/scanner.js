// The guard's scanner at a gate, an installable web app that keeps working when the network drops.
//
// Online, each scan is posted to /api/v1/passages and the server's decision shown. When the network is
// gone (or the request fails), the scan is decided here from the rules snapshot the page keeps, with the
// same rules in the same order as access/rules.py, shown as an offline decision and queued. The queue
// is kept in localStorage, shown on the page, and sent to /api/v1/passages/batch once the network is
// back, with retries; every passage carries its client-generated id, so a batch sent twice is stored
// once. The server answers each passage on its own: stored and duplicate leave the queue, a conflict
// (the server would have decided otherwise) leaves it into the conflict list, an invalid one stays,
// marked, until the guard removes it. A scanner cannot check a code's signature offline; the server does.
(function () {
  "use strict";

  var root = document.getElementById("scanner");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("scanner-labels").textContent);
  var gateId = Number(root.dataset.checkpoint);
  var KEYS = {queue: "fk-access-queue-" + gateId, snapshot: "fk-access-snapshot-" + gateId,
              conflicts: "fk-access-conflicts-" + gateId};
  var BATCH = 1000;
  var RETRY_DELAYS = [2000, 4000, 8000, 15000, 30000, 60000];
  var SCAN_TIMEOUT = 6000;
  var syncing = false;
  var failures = 0;
  var retryTimer = null;

  function $(id) { return document.getElementById(id); }
  function text(name, values) {
    var template = labels.texts[name] || name;
    Object.keys(values || {}).forEach(function (key) { template = template.replace("%(" + key + ")s", values[key]); });
    return template;
  }

  function load(key, fallback) {
    try { var value = window.localStorage.getItem(key); return value ? JSON.parse(value) : fallback; }
    catch (err) { return fallback; }
  }
  function save(key, value) { window.localStorage.setItem(key, JSON.stringify(value)); }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // ---------------------------------------------------------------------------------------------
  // The decision offline: access/rules.py over the snapshot
  // ---------------------------------------------------------------------------------------------

  var B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  function base62(value) {
    var n = 0;
    for (var i = 0; i < value.length; i++) {
      var digit = B62.indexOf(value.charAt(i));
      if (digit < 0) { return NaN; }
      n = n * 62 + digit;
    }
    return n;
  }

  // What a scanned text names, as access/codes.py reads it, without checking the signature.
  function readCode(raw, snapshot) {
    var code = (raw || "").trim();
    var community = snapshot.checkpoint.community_id;
    if (code.indexOf("FKP1:") === 0) {
      var passPart = code.slice(5).split(":")[0].split(".");
      if (passPart.length !== 2) { return {problem: "code_forged"}; }
      if (Number(passPart[1]) !== community) { return {problem: "code_elsewhere"}; }
      if (!snapshot.passes[passPart[0]]) { return {problem: "code_forged"}; }
      return {passId: passPart[0]};
    }
    if (code.indexOf("FK1:") === 0) {
      var parts = code.slice(4).split(":");
      var holder = (parts[0] || "").split(".");
      var signedAt = base62(parts[1] || "");
      if (parts.length !== 3 || holder.length !== 2 || isNaN(signedAt)) { return {problem: "code_forged"}; }
      if (Date.now() / 1000 - signedAt > snapshot.code_days * 86400) { return {problem: "code_expired"}; }
      if (Number(holder[1]) !== community) { return {problem: "code_elsewhere"}; }
      if (!snapshot.people[holder[0]]) { return {problem: "unknown_person"}; }
      return {personId: holder[0]};
    }
    if (/^\d{17}[\dXx]$/.test(code.replace(/\s/g, ""))) { return {problem: "unknown_person"}; }
    return {problem: "code_forged"};
  }

  function minutesOf(hhmm) { var p = hhmm.split(":"); return Number(p[0]) * 60 + Number(p[1]); }
  function openAt(gate, at) {
    if (!gate.opens_at || !gate.closes_at) { return true; }
    var now = at.getHours() * 60 + at.getMinutes(), opens = minutesOf(gate.opens_at), closes = minutesOf(gate.closes_at);
    return opens <= closes ? (opens <= now && now < closes) : (now >= opens || now < closes);
  }

  function localDay(moment) { return new Date(moment.getFullYear(), moment.getMonth(), moment.getDate()); }
  function period(pass, at) {
    var first = localDay(new Date(pass.valid_from));
    var index = Math.max(Math.round((localDay(at) - first) / 86400000), 0);
    var start = new Date(first.getFullYear(), first.getMonth(), first.getDate() + Math.floor(index / pass.quota_days) * pass.quota_days);
    return [start, new Date(start.getFullYear(), start.getMonth(), start.getDate() + pass.quota_days)];
  }
  function validAt(pass, at) {
    return !pass.revoked && new Date(pass.valid_from) <= at && at < new Date(pass.valid_until);
  }
  function used(passId, pass, at) {
    if (!pass.quota_exits) { return 0; }
    var bounds = period(pass, at);
    var inPeriod = function (moment) { var m = new Date(moment); return bounds[0] <= m && m < bounds[1]; };
    var counted = pass.exits.filter(inPeriod).length;
    load(KEYS.queue, []).forEach(function (row) {
      if (row.local_pass === passId && row.offline_result === "allowed" && inPeriod(row.occurred_at)) { counted += 1; }
    });
    return counted;
  }

  function verdict(result, reason, extra) { return Object.assign({result: result, reason: reason || ""}, extra || {}); }

  function candidatePasses(snapshot, subject) {
    return Object.keys(snapshot.passes).filter(function (id) {
      var pass = snapshot.passes[id];
      return (subject.personId && String(pass.person) === subject.personId)
        || (subject.household && !pass.person && pass.household === subject.household);
    });
  }

  function throughPass(snapshot, ids, shown, at) {
    var usable = ids.filter(function (id) { return validAt(snapshot.passes[id], at); });
    if (!usable.length) { return verdict("persuaded_back", "pass_required"); }
    var chosen = usable[0];
    if (!shown) {
      var unlimited = usable.filter(function (id) { return !snapshot.passes[id].quota_exits; });
      chosen = unlimited.length ? unlimited[0] : usable.sort(function (a, b) {
        var left = function (id) { return snapshot.passes[id].quota_exits - used(id, snapshot.passes[id], at); };
        return left(b) - left(a) || Number(a) - Number(b);
      })[0];
    }
    var pass = snapshot.passes[chosen];
    if (!pass.quota_exits) { return verdict("allowed", "pass", {pass: chosen}); }
    var count = used(chosen, pass, at);
    if (count >= pass.quota_exits) {
      return verdict("persuaded_back", "quota_used", {pass: chosen, quotaUsed: count, quotaTotal: pass.quota_exits});
    }
    return verdict("allowed", "pass", {pass: chosen, quotaUsed: count + 1, quotaTotal: pass.quota_exits});
  }

  function decideOffline(snapshot, row, at) {
    var gate = snapshot.checkpoint;
    if (!gate.active) { return verdict("refused", "checkpoint_inactive"); }
    if (gate.direction !== "both" && gate.direction !== row.direction) { return verdict("refused", "wrong_direction"); }
    if (!openAt(gate, at)) { return verdict("refused", "closed_hours"); }
    var fever = Number(snapshot.fever);
    var hot = row.temperature !== null && row.temperature !== undefined && row.temperature !== "" && Number(row.temperature) >= fever;
    if (row.visitor) {
      if (hot) { return verdict("persuaded_back", "fever"); }
      if (row.direction === "in" && !gate.visitors_admitted) { return verdict("persuaded_back", "visitors_not_admitted"); }
      return verdict("allowed", "visitor");
    }
    var subject = readCode(row.code, snapshot);
    if (subject.problem) { return verdict("refused", subject.problem); }
    if (hot) { return verdict("refused", "fever"); }
    var shown = subject.passId ? snapshot.passes[subject.passId] : null;
    if (shown) {
      if (shown.person) { subject.personId = String(shown.person); }
      subject.household = shown.household;
      if (shown.revoked) { return verdict("refused", "pass_revoked", {pass: subject.passId}); }
      if (!validAt(shown, at)) { return verdict("refused", "pass_not_valid", {pass: subject.passId}); }
    }
    var person = subject.personId ? snapshot.people[subject.personId] : null;
    if (person) { subject.household = person.household; }
    var named = person ? {name: person.name} : {};
    if (row.direction === "in") { return verdict("allowed", "", Object.assign({pass: subject.passId}, named)); }
    var movement = person ? person.movement : householdMovement(snapshot, subject.household);
    if (movement === "sealed" || movement === "controlled") {
      var medicalPass = candidatePasses(snapshot, {personId: subject.personId}).filter(function (id) {
        return snapshot.passes[id].kind === "medical" && validAt(snapshot.passes[id], at);
      })[0];
      if ((person && person.medical) || medicalPass) { return verdict("allowed", "medical", Object.assign({pass: medicalPass}, named)); }
      return verdict("refused", movement === "sealed" ? "zone_sealed" : "zone_controlled", named);
    }
    if (gate.test_within_hours && !(person && person.tested_until && at <= new Date(person.tested_until))) {
      return verdict("refused", "test_missing", named);
    }
    if (gate.pass_required || shown) {
      var ids = shown ? [subject.passId] : candidatePasses(snapshot, subject);
      return Object.assign(throughPass(snapshot, ids, !!shown, at), named);
    }
    return verdict("allowed", "", named);
  }

  function householdMovement(snapshot, household) {
    var found = Object.keys(snapshot.people).filter(function (id) { return snapshot.people[id].household === household; })[0];
    return found ? snapshot.people[found].movement : "free";
  }

  function message(decision, direction) {
    var head = labels.results[decision.result] + " · " + labels.directions[direction];
    if (decision.quotaTotal && decision.result === "allowed") {
      return head + " · " + text("quota", {n: decision.quotaUsed, total: decision.quotaTotal});
    }
    return decision.reason ? head + " · " + labels.reasons[decision.reason] : head;
  }

  // ---------------------------------------------------------------------------------------------
  // The page
  // ---------------------------------------------------------------------------------------------

  function show(result, head, who, note) {
    var box = $("verdict");
    box.className = "verdict verdict-" + result;
    $("verdict-head").textContent = head;
    $("verdict-who").textContent = who || "";
    $("verdict-note").textContent = note || "";
    box.hidden = false;
  }

  function showNet() {
    var net = $("net");
    net.textContent = navigator.onLine ? text("online") : text("offline");
    net.classList.toggle("offline", !navigator.onLine);
  }

  function showSnapshot() {
    var snapshot = load(KEYS.snapshot, null);
    $("snapshot-status").textContent = snapshot
      ? text("snapshot", {when: new Date(snapshot.issued_at).toLocaleString("zh-CN", {hour12: false})})
      : text("no_snapshot");
  }

  function describe(row) {
    if (row.visitor) { return row.visitor.name; }
    var code = row.code || "";
    return code.length > 14 ? code.slice(0, 10) + "…" : code;
  }

  function showQueue() {
    var queue = load(KEYS.queue, []);
    $("queue-count").textContent = text("queued", {n: queue.length});
    var list = $("queue-list");
    list.textContent = "";
    queue.slice(-50).reverse().forEach(function (row) {
      var item = document.createElement("li");
      item.textContent = new Date(row.occurred_at).toLocaleTimeString("zh-CN", {hour12: false}) + " " +
        labels.directions[row.direction] + " " + describe(row) + " · " + labels.results[row.offline_result] +
        (row.error ? " · " + row.error : "");
      if (row.error) {
        item.className = "invalid";
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "link";
        discard.textContent = text("discard");
        discard.addEventListener("click", function () { drop(row.client_id); });
        item.appendChild(discard);
      }
      list.appendChild(item);
    });
    var conflicts = load(KEYS.conflicts, []);
    $("conflict-box").hidden = !conflicts.length;
    var conflictList = $("conflict-list");
    conflictList.textContent = "";
    conflicts.slice(-30).reverse().forEach(function (conflict) {
      var item = document.createElement("li");
      item.textContent = new Date(conflict.occurred_at).toLocaleString("zh-CN", {hour12: false}) + " " +
        conflict.who + " · " + conflict.note;
      conflictList.appendChild(item);
    });
  }

  function drop(clientId) {
    save(KEYS.queue, load(KEYS.queue, []).filter(function (row) { return row.client_id !== clientId; }));
    showQueue();
  }

  function queueOffline(row, reason) {
    var snapshot = load(KEYS.snapshot, null);
    var at = new Date(row.occurred_at);
    var decision = snapshot ? decideOffline(snapshot, row, at) : verdict("refused", "");
    row.offline = true;
    row.offline_result = decision.result;
    row.local_pass = decision.pass || null;
    var queue = load(KEYS.queue, []);
    queue.push(row);
    save(KEYS.queue, queue);
    show(decision.result, message(decision, row.direction), decision.name || (row.visitor ? row.visitor.name : ""),
         snapshot ? text("offline_decision") : text("no_snapshot"));
    showQueue();
    scheduleSync(RETRY_DELAYS[0]);
    return reason;
  }

  function post(url, body, timeout) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeout) : null;
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf},
      signal: controller ? controller.signal : undefined
    }).finally(function () { if (timer) { clearTimeout(timer); } });
  }

  function register(row) {
    if (!navigator.onLine) { queueOffline(row, "offline"); return; }
    post(root.dataset.scanUrl, row, SCAN_TIMEOUT).then(function (response) {
      if (response.status >= 500) { throw new Error("server " + response.status); }
      return response.json().then(function (body) {
        if (!response.ok) {
          show("refused", (body.error && body.error.message) || String(response.status), "", "");
          return;
        }
        show(body.result, body.message, body.person_name || body.visitor_name, body.conflict_note || "");
        countInSnapshot(body);
      });
    }).catch(function () { queueOffline(row, "failed"); });
  }

  // An exit the server allowed through a pass counts in the snapshot at once, so that a decision made offline
  // before the next snapshot still knows of it.
  function countInSnapshot(answer) {
    var snapshot = load(KEYS.snapshot, null);
    var pass = snapshot && answer.pass_id ? snapshot.passes[String(answer.pass_id)] : null;
    if (!pass || answer.result !== "allowed" || answer.direction !== "out" || answer.replayed) { return; }
    pass.exits.push(answer.occurred_at);
    save(KEYS.snapshot, snapshot);
  }

  function readForm(visitor) {
    var form = $("scan-form");
    var direction = (form.querySelector("input[name=direction]:checked") || {}).value || "out";
    var row = {client_id: newClientId(), checkpoint_id: gateId, direction: direction,
               occurred_at: new Date().toISOString(), temperature: form.temperature.value.trim() || null,
               plate: form.plate.value.trim()};
    if (visitor) {
      row.visitor = {name: form.visitor_name.value.trim(), phone: form.visitor_phone.value.trim(),
                     id_number: form.visitor_id_number.value.trim(), reason: form.visitor_reason.value.trim()};
    } else {
      row.code = form.code.value.trim();
    }
    return row;
  }

  function clearForm(visitor) {
    var form = $("scan-form");
    form.code.value = "";
    form.temperature.value = "";
    form.plate.value = "";
    if (visitor) {
      ["visitor_name", "visitor_phone", "visitor_id_number", "visitor_reason"].forEach(function (name) { form[name].value = ""; });
    }
    form.code.focus();
  }

  $("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var row = readForm(false);
    if (!row.code) { show("refused", text("enter_code"), "", ""); return; }
    register(row);
    clearForm(false);
  });

  $("visitor-submit").addEventListener("click", function () {
    var row = readForm(true);
    if (!row.visitor.name || !row.visitor.phone) { show("refused", text("visitor_needs"), "", ""); return; }
    register(row);
    clearForm(true);
  });

  // ---------------------------------------------------------------------------------------------
  // Sync with retries
  // ---------------------------------------------------------------------------------------------

  function scheduleSync(delay) {
    if (retryTimer) { clearTimeout(retryTimer); }
    retryTimer = setTimeout(function () { retryTimer = null; sync(); }, delay);
  }

  function settle(sent, answers) {
    var byId = {};
    answers.forEach(function (answer) { byId[answer.client_id] = answer; });
    var conflicts = load(KEYS.conflicts, []);
    var kept = load(KEYS.queue, []).filter(function (row) {
      var answer = byId[row.client_id];
      if (!answer || sent.indexOf(row.client_id) < 0) { return true; }
      if (answer.status === "invalid") { row.error = answer.message; return true; }
      if (answer.status === "conflict" || (answer.status === "duplicate" && answer.conflict_note)) {
        conflicts.push({occurred_at: row.occurred_at, who: describe(row), note: answer.conflict_note});
      }
      return false;
    });
    save(KEYS.queue, kept);
    save(KEYS.conflicts, conflicts.slice(-200));
  }

  function sync() {
    var pending = load(KEYS.queue, []).filter(function (row) { return !row.error; });
    if (syncing || !pending.length || !navigator.onLine) { showQueue(); return Promise.resolve(); }
    syncing = true;
    var chunk = pending.slice(0, BATCH);
    var sent = chunk.map(function (row) { return row.client_id; });
    var body = chunk.map(function (row) {
      var copy = Object.assign({}, row);
      delete copy.local_pass;
      delete copy.error;
      return copy;
    });
    return post(root.dataset.batchUrl, body, 60000).then(function (response) {
      if (!response.ok) { throw new Error("batch " + response.status); }
      return response.json();
    }).then(function (answers) {
      settle(sent, answers);
      failures = 0;
      syncing = false;
      showQueue();
      if (load(KEYS.queue, []).some(function (row) { return !row.error; })) { scheduleSync(100); }
    }).catch(function () {
      syncing = false;
      failures += 1;
      showQueue();
      scheduleSync(RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length - 1)]);
    });
  }

  $("sync-now").addEventListener("click", function () { failures = 0; sync(); });
  window.addEventListener("online", function () { showNet(); failures = 0; refreshSnapshot(); sync(); });
  window.addEventListener("offline", showNet);

  function refreshSnapshot() {
    if (!navigator.onLine) { return; }
    fetch(root.dataset.snapshotUrl, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error("snapshot " + response.status); }
      return response.json();
    }).then(function (snapshot) { save(KEYS.snapshot, snapshot); showSnapshot(); }).catch(function () {});
  }

  // ---------------------------------------------------------------------------------------------
  // Camera scanning where the browser has BarcodeDetector; typing works everywhere
  // ---------------------------------------------------------------------------------------------

  var stream = null;
  var scanning = false;

  function stopCamera() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    $("camera").hidden = true;
  }

  function startCamera() {
    var video = $("camera-video");
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (media) {
      stream = media;
      video.srcObject = media;
      $("camera").hidden = false;
      scanning = true;
      return video.play();
    }).then(function () {
      var tick = function () {
        if (!scanning) { return; }
        detector.detect(video).then(function (found) {
          if (!found.length) { setTimeout(tick, 200); return; }
          stopCamera();
          $("scan-code").value = found[0].rawValue;
          $("scan-form").requestSubmit();
        }).catch(function () { setTimeout(tick, 400); });
      };
      tick();
    }).catch(function () { stopCamera(); show("refused", text("no_camera"), "", ""); });
  }

  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    $("camera-start").hidden = false;
    $("camera-start").addEventListener("click", startCamera);
  }
  $("camera-stop").addEventListener("click", stopCamera);

  // ---------------------------------------------------------------------------------------------

  // The service worker caches its assets when installed; this page asks it to keep the page itself too,
  // so that the scanner opens again without the network.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.swUrl, {scope: root.dataset.swScope}).catch(function () {});
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage({keep: window.location.href}); }
    });
  }
  showNet();
  showSnapshot();
  showQueue();
  refreshSnapshot();
  sync();
  setInterval(function () { if (navigator.onLine) { sync(); } }, 30000);
  setInterval(refreshSnapshot, 10 * 60 * 1000);
})();
