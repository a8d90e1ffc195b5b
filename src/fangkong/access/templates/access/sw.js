// The scanner's service worker: the scanner page and its assets come from the cache when the network is gone;
// the API is never cached (the page's own script queues passages and syncs them).
{% autoescape off %}var CACHE = "fangkong-access-v1";
var ASSETS = {{ assets_json }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key !== CACHE; }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  var url = event.data && event.data.keep;
  if (!url || new URL(url).origin !== self.location.origin) { return; }
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return fetch(url, {credentials: "same-origin"}).then(function (response) {
      if (response.ok) { return cache.put(url, response); }
    });
  }).catch(function () {}));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, {ignoreVary: true}).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  event.respondWith(caches.match(request, {ignoreVary: true}).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  }));
});{% endautoescape %}
