// 颐养 Yiyang — the service worker (served at /sw.js, root scope; self.YIYANG_SW is written above
// this line by the server: the deploy's version, the shell's URLs, the offline page).
//
// Two caches:
// - "yiyang-shell-<version>": styles, scripts, icons, fonts and the offline page. Installed with
//   the worker; a new deploy has a new version, so a new worker caches the new shell and deletes
//   the old ones when it takes over.
// - "yiyang-records": the pages of the records a person took offline ("带到离线"): each section
//   of an assessment, its review, an inspection's checklist. Filled by offline.js at download,
//   refreshed whenever such a page is loaded with the network, emptied when the record is
//   removed from the device. It survives deploys: answers live in IndexedDB, not in these pages.
//
// Pages: network first (the server's page is the truth while it answers), the kept copy when the
// network fails, else the offline page. Static files: cache first. Anything else: the network.
// Logging out (a posted page) without a network: the "signed out on this device" page, kept in
// the shell in both languages.
(function () {
  "use strict";
  var config = self.YIYANG_SW || { version: "dev", shell: [], offlinePage: "/offline", "static": "/static/" };
  var SHELL = "yiyang-shell-" + config.version;
  var RECORDS = "yiyang-records";

  self.addEventListener("install", function (event) {
    event.waitUntil(caches.open(SHELL).then(function (cache) {
      // The offline page is kept as nobody's (no cookies): whoever uses the tablet later, it
      // names no one and lists the records of the user last signed in (offline.js).
      return cache.addAll(config.shell).then(function () {
        var pages = [config.offlinePage].concat(Object.keys(config.signedOut || {}).map(function (k) { return config.signedOut[k]; }));
        return Promise.all(pages.map(function (u) { return cache.add(new Request(u, { credentials: "omit" })); }));
      });
    }).then(function () { return self.skipWaiting(); }));
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("yiyang-shell-") === 0 && name !== SHELL;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); }));
  });

  function samePage(response, request) {
    // A redirect (to the sign-in page, or from a submitted record to its detail) is not the page.
    return response && response.ok && !response.redirected && response.type === "basic";
  }

  function page(request) {
    var url = new URL(request.url);
    var key = url.origin + url.pathname + url.search;
    return fetch(request).then(function (response) {
      if (samePage(response, request)) {
        // (caches.match with a cacheName never creates the cache: logging out deleted it.)
        var copy = response.clone();
        caches.match(key, { cacheName: RECORDS }).then(function (kept) {
          if (kept) { return caches.open(RECORDS).then(function (cache) { return cache.put(key, copy); }); }  // keep downloaded pages fresh
          return null;
        });
      }
      return response;
    }, function () {
      return caches.match(key, { cacheName: RECORDS }).then(function (kept) {
        if (kept) { return kept; }
        return caches.match(config.offlinePage);
      }).then(function (found) {
        return found || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    });
  }

  function logout(request) {
    // Logging out without a network: offline.js has cleared the device already; the page says so
    // (in the language the form names) instead of the browser's error page.
    var form = request.clone().formData().catch(function () { return null; });
    return fetch(request).catch(function () {
      return form.then(function (data) {
        var lang = data && data.get("lang") === "en" ? "en" : "zh";
        return caches.match((config.signedOut || {})[lang] || config.offlinePage);
      }).then(function (found) {
        return found || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    });
  }

  function asset(request) {
    return caches.match(request, { ignoreSearch: true }).then(function (hit) {
      if (hit) { return hit; }
      return fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(SHELL).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    });
  }

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    if (request.method === "POST" && request.mode === "navigate" && new URL(request.url).pathname === config.logout) {
      event.respondWith(logout(request));
      return;
    }
    if (request.method !== "GET") {
      // A save flushed as the page is left (fetch keepalive, sendBeacon): the worker sends it
      // itself, so it outlives the page (a request left to the page would be dropped with it).
      if (request.keepalive) { event.respondWith(fetch(request)); }
      return;
    }
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) { return; }
    if (request.mode === "navigate") { event.respondWith(page(request)); return; }
    if (url.pathname.indexOf(config["static"]) === 0) { event.respondWith(asset(request)); }
  });

  // offline.js asks the worker to keep (or drop) the pages of a record it downloaded.
  self.addEventListener("message", function (event) {
    var data = event.data || {};
    var port = event.ports && event.ports[0];
    var reply = function (value) { if (port) { port.postMessage(value); } };
    if (data.type === "keep") {
      event.waitUntil(caches.open(RECORDS).then(function (cache) {
        return Promise.all(data.urls.map(function (u) {
          return fetch(u, { credentials: "same-origin", redirect: "follow" }).then(function (response) {
            if (!samePage(response)) { throw new Error("not kept: " + u + " " + response.status); }
            return cache.put(new URL(u, self.location.origin).href, response);
          });
        }));
      }).then(function () { reply({ ok: true }); }, function (e) { reply({ ok: false, error: String(e) }); }));
    } else if (data.type === "drop") {
      event.waitUntil(caches.open(RECORDS).then(function (cache) {
        return Promise.all(data.urls.map(function (u) { return cache["delete"](new URL(u, self.location.origin).href); }));
      }).then(function () { reply({ ok: true }); }));
    }
  });
})();
