// 颐养 Yiyang — offline field work: the records kept on this device (IndexedDB), the outbox that
// sends their changes when the network returns, "带到离线" on the work lists, the status line and
// the service worker's registration. Loaded by every page (base.html). form.js and
// offline-form.js use window.YiyangOffline. The words come from #offline-messages (translated by
// the server); docs/forms.md explains the design. One file (about 600 lines): the store, the
// outbox, the status line and the clearing at logout or at another user's sign-in share one
// IndexedDB connection (per user) and one send loop; split, they would pass both between scripts.
(function () {
  "use strict";
  var M = {};
  try { M = JSON.parse((document.getElementById("offline-messages") || {}).textContent || "{}"); } catch (e) { M = {}; }
  function say(key, values) {
    var text = M[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  var lang = document.documentElement.lang === "en" ? "en" : "zh";

  // --- whose data: a shared tablet keeps one database per user --------------------------------------
  // The signed-in user comes from the page (meta yiyang-user); a page without one (the offline
  // page, the sign-in page after a lapsed login) works on the last user's. Another user signing in
  // never sees it: see switchUser; logging out clears it (see setupLogout).
  var USER_KEY = "yiyang.user";
  var RECORD_PAGES = "yiyang-records";  // sw.js keeps the downloaded records' pages under this name
  function local() { try { return window.localStorage; } catch (e) { return null; } }
  var userMeta = document.querySelector("meta[name=yiyang-user]");
  var pageUser = userMeta ? userMeta.getAttribute("content") : null;
  var lastUser = local() ? local().getItem(USER_KEY) : null;
  var user = pageUser || lastUser;
  function dbName(u) { return "yiyang-u" + u; }

  // --- IndexedDB: records, outbox (in order), meta ------------------------------------------------
  var dbPromise = null;
  function openDb(name) {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(name, 1);
      open.onupgradeneeded = function () {
        var d = open.result;
        d.createObjectStore("records", { keyPath: "key" });
        var out = d.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        out.createIndex("record", "key");
        d.createObjectStore("meta", { keyPath: "name" });
      };
      open.onsuccess = function () {
        var d = open.result;
        d.onversionchange = function () { d.close(); };  // another page deletes it (logout): let go
        resolve(d);
      };
      open.onerror = function () { reject(open.error); };
    });
  }
  function db() {
    if (!window.indexedDB) { return Promise.reject(new Error("no IndexedDB")); }
    if (!user) { return Promise.reject(new Error("nobody signed in")); }
    if (!dbPromise) { dbPromise = openDb(dbName(user)); }
    return dbPromise;
  }
  function dropDb(name) {
    return new Promise(function (resolve) {
      var gone = indexedDB.deleteDatabase(name);
      gone.onsuccess = gone.onerror = function () { resolve(); };
      gone.onblocked = function () { window.setTimeout(resolve, 2000); };
    });
  }
  function forgetLocal() {
    // The pages' own copies: unsent autosave drafts, visit records, the last user.
    var s = local();
    if (!s) { return; }
    var names = [];
    for (var i = 0; i < s.length; i += 1) { if ((s.key(i) || "").indexOf("yiyang.") === 0) { names.push(s.key(i)); } }
    names.forEach(function (n) { try { s.removeItem(n); } catch (e) { /* ignore */ } });
  }
  function clearDevice() {
    // Logging out: this user's records, outbox and kept pages leave the device; the app shell
    // (styles, scripts, the offline page) stays. The page's scripts stop keeping copies first.
    window.dispatchEvent(new CustomEvent("yiyang:cleared"));
    var closing = dbPromise ? dbPromise.then(function (d) { d.close(); }, function () { return null; }) : Promise.resolve();
    dbPromise = null;
    return closing.then(function () {
      return Promise.all([user && window.indexedDB ? dropDb(dbName(user)) : null,
                          window.caches ? caches["delete"](RECORD_PAGES).catch(function () { return null; }) : null]);
    }).then(function () { forgetLocal(); user = null; });
  }
  function dropIfSent(name) {
    // Delete a database whose outbox is empty; one with changes waiting stays (unopened).
    if (!window.indexedDB) { return Promise.resolve(); }
    return openDb(name).then(function (d) {
      return new Promise(function (resolve) {
        var count = d.transaction(["outbox"], "readonly").objectStore("outbox").count();
        count.onsuccess = function () { d.close(); resolve(count.result); };
        count.onerror = function () { d.close(); resolve(1); };
      });
    }).then(function (waiting) { return waiting ? null : dropDb(name); }, function () { return null; });
  }
  function dropShared() {
    // Before one database per user, a device had one "yiyang" for everyone; whose it is cannot be
    // told, so it is deleted once nothing in it waits to be sent.
    if (!window.indexedDB || !indexedDB.databases) { return Promise.resolve(); }
    return indexedDB.databases().then(function (list) {
      return list.some(function (d) { return d.name === "yiyang"; }) ? dropIfSent("yiyang") : null;
    }).catch(function () { return null; });
  }
  function switchUser(previous) {
    // Another user signed in on this browser: the previous user's kept pages and the pages'
    // copies go; their database goes when nothing in it waits to be sent, else it stays apart
    // (never opened for anyone else) until they sign in again and it is sent.
    var s = local();
    forgetLocal();
    if (s) { try { s.setItem(USER_KEY, pageUser); } catch (e) { /* ignore */ } }
    var cleared = window.caches ? caches["delete"](RECORD_PAGES).catch(function () { return null; }) : Promise.resolve();
    var theirs = dropIfSent(dbName(previous));
    return Promise.all([cleared, theirs]).then(function () {
      // This user's own records (if they worked here before): their pages are kept again.
      return allRecords().then(function (records) {
        return Promise.all(records.map(function (r) {
          return keepPages(r.bundle.pages.concat(r.bundle.review ? [r.bundle.review] : [])).catch(function () { return null; });
        }));
      });
    }).catch(function () { return null; });
  }
  function tx(stores, mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(stores, mode);
        var result;
        Promise.resolve(work(t)).then(function (r) { result = r; });
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function req(r) { return new Promise(function (resolve, reject) { r.onsuccess = function () { resolve(r.result); }; r.onerror = function () { reject(r.error); }; }); }
  function getRecord(key) { return tx(["records"], "readonly", function (t) { return req(t.objectStore("records").get(key)); }); }
  function putRecord(rec) { return tx(["records"], "readwrite", function (t) { t.objectStore("records").put(rec); }); }
  function allRecords() { return tx(["records"], "readonly", function (t) { return req(t.objectStore("records").getAll()); }); }
  function entries() { return tx(["outbox"], "readonly", function (t) { return req(t.objectStore("outbox").getAll()); }); }
  function putEntry(entry) { return tx(["outbox"], "readwrite", function (t) { return req(t.objectStore("outbox").put(entry)); }); }
  function dropEntry(seq) { return tx(["outbox"], "readwrite", function (t) { t.objectStore("outbox")["delete"](seq); }); }
  function meta(name, value) {
    if (value === undefined) { return tx(["meta"], "readonly", function (t) { return req(t.objectStore("meta").get(name)); }).then(function (r) { return r ? r.value : null; }); }
    return tx(["meta"], "readwrite", function (t) { t.objectStore("meta").put({ name: name, value: value }); });
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  var C = window.YiyangConflict;  // the one three-way merge of every form (conflict.js)
  var same = C.same, copy = C.copy, normFacts = C.normFacts;
  function pending(rec) {
    // Whether the device holds changes the server has not confirmed: answers, and an inspection's
    // notes and facts (they are saved with the answers and asked like them on a conflict).
    if (!rec) { return false; }
    if (Object.keys(changedItems(rec)).length || rec.conflict) { return true; }
    if (rec.kind !== "inspection") { return false; }
    var serverFacts = rec.serverFacts || (rec.bundle && rec.bundle.facts) || {};
    return !same(rec.notes || {}, rec.serverNotes || {}) || !same(normFacts(rec.facts), normFacts(serverFacts));
  }
  function changedItems(rec) {
    var out = {};
    var keys = {};
    Object.keys(rec.answers || {}).concat(Object.keys(rec.server || {})).forEach(function (k) { keys[k] = 1; });
    Object.keys(keys).forEach(function (k) { if (!same(rec.answers[k], rec.server[k])) { out[k] = rec.answers[k] === undefined ? null : rec.answers[k]; } });
    return out;
  }

  // --- the outbox ------------------------------------------------------------------------------------
  // A "save" entry means "send this record's unsent changes": its body is made and frozen at its
  // first attempt (with the version it is based on and its Idempotency-Key), so a retry is the
  // same request and the server applies it once. Later changes wait in a new entry.
  function enqueue(entry) {
    entry.idem = newKey();
    entry.created = Date.now();
    entry.attempted = !!entry.attempted;
    return putEntry(entry).then(function () { refreshStatus(); kick(); });
  }
  var queueing = Promise.resolve();
  function queueSave(key) {
    // One after another: two changes at once (input and change events) make one entry.
    queueing = queueing.then(function () {
      return entries().then(function (list) {
        var waiting = list.some(function (e) { return e.key === key && e.type === "save" && !e.attempted; });
        return waiting ? null : enqueue({ key: key, type: "save" });
      });
    }).catch(function () { return null; });
    return queueing;
  }
  function queueVisit(key, url, body) {
    // A visit report carries the visit's totals (the server keeps the largest): one waiting
    // report per record is enough, so a newer one replaces it until it is sent.
    queueing = queueing.then(function () {
      return entries().then(function (list) {
        var waiting = list.filter(function (e) { return e.key === key && e.type === "visit" && !e.attempted; })[0];
        if (!waiting) { return enqueue({ key: key, type: "visit", method: "POST", url: url, body: body }); }
        waiting.body = body;
        return putEntry(waiting).then(function () { refreshStatus(); kick(); });
      });
    }).catch(function () { return null; });
    return queueing;
  }
  function saveBody(rec) {
    var changed = changedItems(rec);
    if (rec.kind === "inspection") {
      var whole = {};
      Object.keys(rec.answers).forEach(function (k) { if (rec.answers[k] !== null && rec.answers[k] !== undefined) { whole[k] = rec.answers[k]; } });
      return { changed: changed, json: { answers: whole, notes: rec.notes || {}, facts: rec.facts || {}, version: rec.version } };
    }
    return { changed: changed, json: { answers: changed, version: rec.version } };
  }

  var running = null;
  var sessionState = { token: null, login: false };
  function session() {
    return fetch("/api/v1/offline/session", { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      if (r.status === 401) { sessionState.login = true; throw { login: true }; }
      if (!r.ok) { throw { status: r.status }; }
      return r.json().then(function (data) { sessionState.login = false; sessionState.token = data.csrf_token; return data; });
    });
  }
  function send(entry, rec) {
    var headers = { "Accept": "application/json", "Accept-Language": lang, "Idempotency-Key": entry.idem, "X-CSRFToken": sessionState.token };
    var options = { method: entry.method, credentials: "same-origin", headers: headers, redirect: "manual" };
    if (entry.blob) { headers["Content-Type"] = entry.contentType || entry.blob.type || "image/jpeg"; options.body = entry.blob; }
    else { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(entry.body); }
    return fetch(entry.url, options).then(function (r) {
      if (r.status === 401 || r.type === "opaqueredirect") { sessionState.login = true; throw { login: true }; }
      return r.json().then(function (data) { return { status: r.status, data: data }; }, function () { return { status: r.status, data: {} }; });
    });
  }
  function prepare(entry, rec) {
    if (entry.attempted) { return Promise.resolve(entry); }
    var b = rec.bundle;
    if (entry.type === "save") {
      var body = saveBody(rec);
      if (!Object.keys(body.changed).length && rec.kind !== "inspection") { return dropEntry(entry.seq).then(function () { return null; }); }
      entry.method = "PUT"; entry.url = b.save; entry.body = body.json; entry.changed = body.changed; entry.base = JSON.parse(JSON.stringify(rec.server));
      entry.baseNotes = copy(rec.serverNotes || {});
      entry.baseFacts = copy(rec.serverFacts || (b && b.facts) || {});
    } else if (entry.type === "submit") {
      entry.method = "POST"; entry.url = b.submit; entry.body = rec.kind === "assessment" ? { version: rec.version } : {};
    }
    entry.attempted = true;
    entry.idem = newKey();  // one key per frozen body: every retry of it is the same request
    return putEntry(entry).then(function () { return entry; });
  }
  function afterSave(entry, rec, res) {
    if (res.status === 200) {
      Object.keys(entry.changed || {}).forEach(function (k) {
        if (entry.changed[k] === null) { delete rec.server[k]; } else { rec.server[k] = entry.changed[k]; }
      });
      rec.version = res.data.version;
      if (rec.kind === "inspection") { rec.serverNotes = copy(entry.body.notes || {}); rec.serverFacts = copy(entry.body.facts || {}); }
      rec.problems = res.data.problems || [];
      rec.relevant = res.data.relevant || null;
      return putRecord(rec).then(function () { return dropEntry(entry.seq); });
    }
    if (res.status === 409 && res.data.error === "conflict") { return conflict(entry, rec, res.data); }
    return failed(entry, rec, res);
  }
  function conflict(entry, rec, data) {
    // Merged three ways against what the save was based on (conflict.js): values only they
    // changed are taken, values only this device changed are kept and sent again, values both
    // changed differently are asked. Nothing is overwritten silently.
    var theirs = data.answers || {};
    var merged = C.merge(entry.base || rec.server, theirs, rec.answers);
    var ask = merged.ask;
    rec.answers = merged.merged;
    rec.server = copy(theirs);
    rec.version = data.version;
    return extrasConflict(entry, rec, ask, data).then(function () {
      rec.conflict = ask.length ? { items: ask, message: data.message || "", version: data.version } : null;
      return putRecord(rec);
    }).then(function () { return dropEntry(entry.seq); }).then(function () {
      if (!ask.length) { return queueSave(rec.key); }
      window.dispatchEvent(new CustomEvent("yiyang:conflict", { detail: { key: rec.key } }));
      return null;
    });
  }
  function extrasConflict(entry, rec, ask, data) {
    // An inspection's notes and facts (vetoes, first application) are saved whole with its
    // answers: the same three-way rule, note by note and fact by fact. The 409 carries the
    // server's; an older server's answer without them is completed from the record.
    if (rec.kind !== "inspection") { return Promise.resolve(); }
    var got = data.facts && data.notes ? Promise.resolve(data) : !rec.bundle.record ? Promise.resolve(null) :
      fetch(rec.bundle.record, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
        return r.ok ? r.json() : null;
      });
    return got.then(function (current) {
      if (!current) { return; }
      var merged = C.mergeExtras({ notes: entry.baseNotes || {}, facts: entry.baseFacts || {} },
                                 { notes: current.notes || {}, facts: current.facts || {} },
                                 { notes: rec.notes || {}, facts: rec.facts || {} }, ask);
      rec.notes = merged.notes;
      rec.serverNotes = copy(current.notes || {});
      rec.facts = merged.facts;
      rec.serverFacts = copy(current.facts || {});
    });
  }
  function failed(entry, rec, res) {
    if (!rec) {  // a photo of a record not kept here: said on its page, then dropped
      window.dispatchEvent(new CustomEvent("yiyang:refused", { detail: { key: entry.key, type: entry.type, url: entry.url, local: entry.local, data: res.data } }));
      return dropEntry(entry.seq);
    }
    rec.error = (res.data && (res.data.message || res.data.error)) || String(res.status);
    rec.errors = (res.data && res.data.errors) || [];
    return putRecord(rec).then(function () {
      window.dispatchEvent(new CustomEvent("yiyang:refused", { detail: { key: rec.key, type: entry.type } }));
      return dropEntry(entry.seq);
    });
  }
  function afterSubmit(entry, rec, res) {
    if (res.status === 200) {
      // Done: the record leaves the device (its kept pages too); the server has it, scored.
      return dropEntry(entry.seq).then(function () { return forget(rec); }).then(function () {
        window.dispatchEvent(new CustomEvent("yiyang:submitted", { detail: { key: rec.key, result: res.data.result || null } }));
      });
    }
    if (res.status === 409 && res.data.error === "conflict") {
      // Someone saved since: the submission waits behind a fresh save of what this device has.
      entry.attempted = false;
      rec.version = res.data.version;
      return putRecord(rec).then(function () { return putEntry(entry); });
    }
    return failed(entry, rec, res);
  }
  function afterPhoto(entry, rec, res) {
    if (res.status === 201 || res.status === 200) {
      return dropEntry(entry.seq).then(function () {
        window.dispatchEvent(new CustomEvent("yiyang:photo", { detail: { key: entry.key, url: entry.url, local: entry.local, photo: res.data } }));
      });
    }
    return failed(entry, rec, res);
  }
  function run() {
    return entries().then(function (list) {
      if (!list.length) { return null; }
      return session().then(function () {
        var blocked = {};
        var chain = Promise.resolve();
        list.sort(function (a, b) { return a.seq - b.seq; }).forEach(function (entry) {
          chain = chain.then(function () {
            if (blocked[entry.key]) { return null; }
            return getRecord(entry.key).then(function (rec) {
              if (!rec && entry.type !== "photo" && entry.type !== "visit") { return dropEntry(entry.seq); }
              if (rec && rec.conflict) { blocked[entry.key] = true; return null; }
              return prepare(entry, rec).then(function (ready) {
                if (!ready) { return null; }
                return send(ready, rec).then(function (res) {
                  if (ready.type === "save") { return afterSave(ready, rec, res); }
                  if (ready.type === "submit") { return afterSubmit(ready, rec, res); }
                  if (ready.type === "visit") { return dropEntry(ready.seq); }  // the device keeps the totals: a refused one is sent again with the next
                  return afterPhoto(ready, rec, res);
                }).then(function () { return getRecord(entry.key); }).then(function (now) {
                  if (now && now.conflict) { blocked[entry.key] = true; }
                });
              });
            });
          });
        });
        return chain.then(function () { return meta("lastSync", Date.now()); });
      });
    });
  }
  function kick() {
    if (running) { running.again = true; return running.promise; }
    var state = { again: false };
    state.promise = run().catch(function (error) { return error; }).then(function () {
      running = null;
      refreshStatus();
      if (state.again) { return kick(); }
      return null;
    });
    running = state;
    return state.promise;
  }

  // --- the status line: changes waiting, last sync, sign in again -----------------------------------
  function clock(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }
  function refreshStatus() {
    var node = document.getElementById("offline-status");
    if (!node) { return Promise.resolve(); }
    return Promise.all([entries(), meta("lastSync"), allRecords()]).then(function (r) {
      var waiting = r[0].length, last = r[1], records = r[2];
      var conflicts = records.filter(function (x) { return x.conflict; }).length;
      var parts = [];
      // "all sent" only when nothing waits to be settled either: a conflict's kept value is not sent yet
      if (waiting) { parts.push(say("waiting", { n: waiting })); } else if (records.length && !conflicts) { parts.push(say("all_sent")); }
      if (conflicts) { parts.push(say("conflicts", { n: conflicts })); }
      if (last) { parts.push(say("last_sync", { time: clock(last) })); }
      if (!navigator.onLine) { parts.unshift(say("offline")); }
      var text = node.querySelector("[data-offline-text]");
      var login = node.querySelector("[data-offline-login]");
      if (text) { text.textContent = parts.join(" · "); }
      if (login) { login.hidden = !(sessionState.login && waiting); }
      node.hidden = !(waiting || records.length || !navigator.onLine);
      node.setAttribute("data-waiting", String(waiting));
      node.classList.toggle("is-error", !!(conflicts || (sessionState.login && waiting)));
    }).catch(function () { return null; });
  }

  // --- "带到离线": download the chosen records ------------------------------------------------------
  function keepPages(urls) {
    if (!navigator.serviceWorker) { return Promise.reject(new Error("no service worker")); }
    return navigator.serviceWorker.ready.then(function (reg) {
      return new Promise(function (resolve, reject) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) { if (event.data && event.data.ok) { resolve(); } else { reject(new Error((event.data || {}).error)); } };
        reg.active.postMessage({ type: "keep", urls: urls }, [channel.port2]);
      });
    });
  }
  function download(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json", "Accept-Language": lang } }).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) { throw new Error(data.message || String(r.status)); } return data; });
    }).then(function (bundle) {
      // The definition compiled for the client-side engine, where the server offers it.
      var d = bundle.definition;
      return fetch("/api/v1/definitions/" + encodeURIComponent(d.id) + "/" + encodeURIComponent(d.version) + "/compiled",
                   { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
        return r.ok ? r.json() : null;
      }, function () { return null; }).then(function (compiled) { d.compiled = compiled; return bundle; });
    }).then(function (bundle) {
      var key = bundle.kind + ":" + bundle.id;
      return getRecord(key).then(function (old) {
        var rec = pending(old) ? old : { key: key, kind: bundle.kind, id: bundle.id, answers: JSON.parse(JSON.stringify(bundle.answers)),
                                    server: JSON.parse(JSON.stringify(bundle.answers)), version: bundle.version,
                                    notes: bundle.notes || null, serverNotes: bundle.notes || null,
                                    facts: bundle.facts || null, serverFacts: bundle.facts || null,
                                    status: bundle.status, conflict: null };
        rec.bundle = bundle;
        rec.downloaded = Date.now();
        return keepPages(bundle.pages.concat(bundle.review && bundle.review !== bundle.pages[0] ? [bundle.review] : [])).then(function () {
          return putRecord(rec);
        }).then(function () { return rec; });
      });
    });
  }
  function forget(rec) {
    var urls = rec.bundle.pages.concat(rec.bundle.review ? [rec.bundle.review] : []);
    var dropped = navigator.serviceWorker ? navigator.serviceWorker.ready.then(function (reg) {
      reg.active.postMessage({ type: "drop", urls: urls });
    }) : Promise.resolve();
    return dropped.then(function () {
      return tx(["records"], "readwrite", function (t) { t.objectStore("records")["delete"](rec.key); });
    });
  }
  function persist() {
    if (navigator.storage && navigator.storage.persist) { return navigator.storage.persist().catch(function () { return false; }); }
    return Promise.resolve(false);
  }
  function markKept() {
    return allRecords().then(function (records) {
      var kept = {};
      records.forEach(function (r) { kept[r.bundle && r.bundle.kind === "inspection" ? "/api/v1/inspections/" + r.id + "/offline" : "/api/v1/assessments/" + r.id + "/offline"] = r; });
      Array.prototype.forEach.call(document.querySelectorAll("[data-offline-pick]"), function (box) {
        var badge = box.parentNode.querySelector("[data-offline-kept]");
        if (badge) { badge.hidden = !kept[box.value]; }
      });
    }).catch(function () { return null; });
  }
  function setupDownloads() {
    var tools = document.querySelector("[data-offline-tools]");
    if (!tools || !window.indexedDB || !navigator.serviceWorker) { return; }
    tools.hidden = false;
    Array.prototype.forEach.call(document.querySelectorAll("[data-offline-pick-cell]"), function (cell) { cell.hidden = false; });
    var button = tools.querySelector("[data-offline-download]");
    var status = tools.querySelector("[data-offline-progress]");
    markKept();
    button.addEventListener("click", function () {
      var chosen = Array.prototype.filter.call(document.querySelectorAll("[data-offline-pick]"), function (b) { return b.checked; });
      if (!chosen.length) { status.textContent = say("choose"); return; }
      button.disabled = true;
      status.textContent = say("downloading", { n: chosen.length });
      var done = 0, failures = [];
      persist().then(function () {
        return chosen.reduce(function (chain, box) {
          return chain.then(function () {
            return download(box.value).then(function () { done += 1; box.checked = false; }, function (e) {
              failures.push((box.getAttribute("data-offline-name") || "") + "：" + (e && e.message ? e.message : e));
            });
          });
        }, Promise.resolve());
      }).then(function () {
        button.disabled = false;
        status.textContent = say("downloaded", { n: done }) + (failures.length ? " " + say("download_failed") + failures.join("；") : "");
        markKept();
        refreshStatus();
      });
    });
  }

  // --- the offline page: the records kept on this device -------------------------------------------
  function listRecords() {
    var list = document.getElementById("offline-records");
    if (!list) { return; }
    allRecords().then(function (records) {
      list.textContent = "";
      document.getElementById("offline-empty").hidden = records.length > 0;
      records.forEach(function (r) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = r.bundle.kind === "assessment" ? r.bundle.pages[0] : r.bundle.review;
        a.textContent = (r.bundle.title && (r.bundle.title[lang] || r.bundle.title.zh)) || r.key;
        li.appendChild(a);
        if (r.conflict) { li.appendChild(document.createTextNode(" · " + say("has_conflict"))); }
        list.appendChild(li);
      });
    });
  }

  // --- logging out: nothing personal stays on a shared tablet -------------------------------------------
  function setupLogout() {
    var form = document.querySelector("form[data-offline-logout]");
    var box = document.getElementById("offline-logout");
    if (!form) { return; }
    var leaving = false;
    function leave() {
      leaving = true;
      clearDevice().then(function () { form.submit(); }, function () { form.submit(); });
    }
    form.addEventListener("submit", function (event) {
      if (leaving) { return; }
      event.preventDefault();
      form.dataset.submitted = "";  // app.js's double-tap guard: this post has not left yet
      if (!window.indexedDB || !user) { leave(); return; }
      entries().then(function (list) {
        if (!list.length || !box) { leave(); return; }
        // Changes wait to be sent: the person chooses to send them first (and stay) or to
        // discard them and log out (asked once more).
        box.querySelector("[data-offline-logout-text]").textContent = say("logout_pending", { n: list.length });
        box.hidden = false;
        box.focus();
        box.querySelector("[data-offline-logout-send]").onclick = function () {
          box.hidden = true;
          var text = document.querySelector("#offline-status [data-offline-text]");
          if (text) { text.textContent = say("logout_sending"); }
          kick();
        };
        box.querySelector("[data-offline-logout-discard]").onclick = function () {
          if (window.confirm(say("logout_confirm", { n: list.length }))) { box.hidden = true; leave(); }
        };
      }, leave);
    });
  }

  // --- logged out without a network: the server's session is ended by the next page that has it -------
  var SIGNED_OUT = "yiyang.signed-out";
  function signedOut() {
    // The worker showed the "signed out on this device" page (data-signed-out): remembered here,
    // so the first page the network brings that is still signed in posts the logout (the device
    // is cleared already) and the sign-in page comes next. A page signed in nobody ends it.
    var s = local();
    if (!s) { return false; }
    if (document.querySelector("[data-signed-out]")) {
      try { s.setItem(SIGNED_OUT, "1"); } catch (e) { /* ignore */ }
      return true;
    }
    if (!s.getItem(SIGNED_OUT)) { return false; }
    var form = document.querySelector("form[data-offline-logout]");
    if (pageUser && form) { clearDevice().then(function () { form.submit(); }, function () { form.submit(); }); return true; }
    try { s.removeItem(SIGNED_OUT); } catch (e) { /* ignore */ }
    return false;
  }

  // --- start ---------------------------------------------------------------------------------------
  var worker = document.querySelector("meta[name=yiyang-service-worker]");
  if (navigator.serviceWorker && worker) {
    navigator.serviceWorker.register(worker.getAttribute("content"), { scope: "/" }).catch(function () { return null; });
  }
  window.YiyangOffline = {
    record: getRecord, put: putRecord, records: allRecords, entries: entries, queueSave: queueSave,
    enqueue: enqueue, kick: kick, status: refreshStatus, say: say, lang: lang, same: same,
    changedItems: changedItems, pending: pending, download: download,
    // A photo's body is final when queued (a Blob; a multipart one with its contentType and
    // boundary): every retry sends the same bytes under the same key. It needs no kept record.
    enqueuePhoto: function (key, url, blob, local, contentType) {
      return enqueue({ key: key, type: "photo", method: "POST", url: url, blob: blob, contentType: contentType || blob.type, local: local, attempted: true });
    },
    queueSubmit: function (key) { return enqueue({ key: key, type: "submit" }); },
    queueVisit: queueVisit
  };
  window.addEventListener("online", function () { kick(); });
  window.addEventListener("offline", refreshStatus);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { kick(); } });
  if (signedOut()) { return; }
  setupLogout();
  var switched = Promise.resolve();
  if (pageUser && pageUser !== lastUser) {
    if (lastUser) { switched = switchUser(lastUser); }
    else if (local()) { try { local().setItem(USER_KEY, pageUser); } catch (e) { /* ignore */ } }
  }
  window.YiyangOffline.ready = Promise.all([switched, dropShared()]);
  if (window.indexedDB && user) {
    setupDownloads();
    listRecords();
    refreshStatus();
    kick();
  }
})();
