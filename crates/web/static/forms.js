/* minzheng forms: what a clerk types into a form is kept in the browser until the server
   has accepted it.

   - On submit, the form's fields (not passwords, files or the CSRF token) are kept in
     sessionStorage (localStorage for forms marked data-draft="device", which must outlive
     a closed tab or a dropped network), with the page the form was sent from.
   - The answer to an accepted form is a redirect that sets the cookie mz_saved: the copy is
     forgotten.
   - Any other answer (a refusal, an error page, the sign-in page after the session ended,
     no network at all) leaves the copy; wherever that form is shown again, what was typed is
     put back, with a note and a button to clear it.
   - A refusal shown at the form's own address gets the address of the page the form was on
     (history.replaceState), so reloading or coming back never re-sends the form.
   - A form marked data-draft="device" (the home visit, 入户调查) is also kept while it is
     being typed, so a half-filled survey survives a dropped network or a closed page. Sent
     without a network, it waits on the device and is sent by itself when the network
     returns; its one-time key (_once) travels with it, so the server never does it twice.
   - Field errors the server sends in #form-errors (JSON {field: message}) are shown next to
     their fields when the page did not already do so.
   No dependency; works with and without htmx. */
(function () {
  "use strict";
  var STORE = "mz-forms";
  var LAST = "mz-forms-last";
  var SAVED = "mz_saved";
  var MAX_AGE = 12 * 3600 * 1000;
  var DEVICE_MAX_AGE = 7 * 24 * 3600 * 1000;
  var SKIP = ["hidden", "file", "password", "submit", "button", "reset", "image"];

  function areas() {
    var out = [];
    try { if (window.sessionStorage) out.push(window.sessionStorage); } catch (e) { /* blocked */ }
    try { if (window.localStorage) out.push(window.localStorage); } catch (e) { /* blocked */ }
    return out;
  }
  function areaOf(form) {
    try {
      return form.getAttribute("data-draft") === "device" ? window.localStorage : window.sessionStorage;
    } catch (e) { return null; }
  }
  function read(st) {
    try { return JSON.parse(st.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
  }
  function write(st, d) {
    try { st.setItem(STORE, JSON.stringify(d)); } catch (e) { /* full or blocked */ }
  }
  function pathOf(url) {
    var a = document.createElement("a");
    a.href = url;
    return a.pathname;
  }
  // A form is known by where it posts and which of the forms posting there it is: its id,
  // else the hidden action it asks for, else its place among them.
  function keyOf(form) {
    var path = pathOf(form.getAttribute("action") || location.href);
    if (form.id) return path + "#" + form.id;
    var act = form.querySelector("input[type=hidden][name=action], input[type=hidden][name=op]");
    var same = Array.prototype.filter.call(document.querySelectorAll("form"), function (f) {
      return pathOf(f.getAttribute("action") || location.href) === path;
    });
    return path + "#" + (act ? "do-" + act.value + "-" : "n-") + same.indexOf(form);
  }
  function kept(el) {
    return el.name && el.name !== "_csrf" && !el.disabled &&
      SKIP.indexOf((el.type || "").toLowerCase()) < 0;
  }
  function each(form, fn) {
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      var i = seen[el.name] || 0;
      seen[el.name] = i + 1;
      fn(el, i);
    });
  }
  function capture(form) {
    var vals = {}, typed = false;
    each(form, function (el) {
      var v;
      if (el.type === "checkbox" || el.type === "radio") {
        v = el.checked;
        typed = typed || v;
      } else {
        v = el.value;
        typed = typed || v !== "";
      }
      (vals[el.name] = vals[el.name] || []).push(v);
    });
    var once = form.querySelector("input[type=hidden][name=_once]");
    if (once) vals._once = [once.value];
    return typed ? vals : null;
  }
  function restore(form, vals) {
    var changed = false;
    var once = form.querySelector("input[type=hidden][name=_once]");
    if (once && vals._once && vals._once[0]) once.value = vals._once[0];
    each(form, function (el, i) {
      var list = vals[el.name];
      if (!list || list[i] === undefined) return;
      var v = list[i];
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== v) { el.checked = v; changed = true; }
      } else if (el.value !== v) {
        if (el.tagName === "SELECT" &&
            !Array.prototype.some.call(el.options, function (o) { return o.value === v; })) return;
        el.value = v;
        changed = true;
      }
    });
    return changed;
  }
  function note(form, key) {
    var p = document.createElement("p");
    p.className = "alert warn draft-note";
    p.textContent = "已恢复您上次未能提交成功的内容，请核对后再提交。";
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.textContent = "清除恢复的内容";
    b.addEventListener("click", function () {
      forget(key);
      form.reset();
      p.parentNode.removeChild(p);
    });
    p.appendChild(document.createTextNode(" "));
    p.appendChild(b);
    form.insertBefore(p, form.firstChild);
  }
  function forget(key) {
    areas().forEach(function (st) {
      var d = read(st);
      if (d[key]) { delete d[key]; write(st, d); }
    });
  }
  function cookieSet(name) {
    return document.cookie.split(";").some(function (c) { return c.trim().indexOf(name + "=") === 0; });
  }
  function plainFrom(from) {
    // The page the form was on, without the one-time notices of an earlier save.
    var a = document.createElement("a");
    a.href = from;
    var q = a.search.replace(/^\?/, "").split("&").filter(function (kv) {
      var k = kv.split("=")[0];
      return kv && ["saved", "ok", "signed_out", "expired"].indexOf(k) < 0;
    }).join("&");
    return a.pathname + (q ? "?" + q : "");
  }

  function showFieldErrors() {
    var holder = document.getElementById("form-errors");
    if (!holder) return;
    var errs;
    try { errs = JSON.parse(holder.textContent || "{}"); } catch (e) { return; }
    var form = document.querySelector("form[data-refused]") || null;
    Object.keys(errs).forEach(function (name) {
      var scope = form || document;
      var el = scope.querySelector("[name=\"" + name.replace(/"/g, "") + "\"]");
      if (!el || el.type === "hidden") return;
      var label = el.closest("label") || el.parentNode;
      if (label.querySelector(".field-error")) return;
      var span = document.createElement("span");
      span.className = "field-error";
      span.textContent = errs[name];
      label.appendChild(span);
    });
  }

  // Place fields: <datalist data-places="village"> filled with the jurisdiction's places by
  // name (see src/places.rs); one request per level and page.
  function fillPlaces() {
    var asked = {};
    Array.prototype.forEach.call(document.querySelectorAll("datalist[data-places]"), function (dl) {
      var level = dl.getAttribute("data-places");
      var p = asked[level] || (asked[level] = fetch("/places?level=" + encodeURIComponent(level), {
        credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.text() : ""; }).catch(function () { return ""; }));
      p.then(function (html) { if (html) dl.innerHTML = html; });
    });
  }

  // Device forms: is the server reachable right now?
  function reachable() {
    return fetch("/healthz", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok; }, function () { return false; });
  }
  function send(form) {
    form.__sending = true;
    HTMLFormElement.prototype.submit.call(form);
  }
  function offlineNote(form, text) {
    var p = form.querySelector(".offline-note");
    if (!p) {
      p = document.createElement("p");
      p.className = "alert warn offline-note";
      form.insertBefore(p, form.firstChild);
    }
    p.textContent = text;
  }
  function sendWhenOnline(form, key, st) {
    var all = read(st);
    if (all[key]) { all[key].pending = true; write(st, all); }
    offlineNote(form, "网络不通：填写的内容已保存在本机，网络恢复后会自动提交，请不要关闭此页面。");
    if (form.__waiting) return;
    form.__waiting = true;
    var timer = null;
    var tryNow = function () {
      reachable().then(function (ok) {
        if (!ok || form.__sending) return;
        if (timer) clearInterval(timer);
        window.removeEventListener("online", tryNow);
        offlineNote(form, "网络已恢复，正在提交保存在本机的内容……");
        // Sent once: a refusal is shown like any other, never sent again by itself.
        var kept = read(st);
        if (kept[key]) { kept[key].pending = false; write(st, kept); }
        try {
          st.setItem(LAST, JSON.stringify({
            key: key,
            action: form.getAttribute("action") || location.href,
            from: location.pathname + location.search
          }));
        } catch (e) { /* blocked */ }
        send(form);
      });
    };
    timer = setInterval(tryNow, 5000);
    window.addEventListener("online", tryNow);
    tryNow();
  }

  function start() {
    var saved = cookieSet(SAVED);
    var now = Date.now();
    areas().forEach(function (st) {
      var d = read(st), dirty = false, last = null;
      try { last = JSON.parse(st.getItem(LAST) || "null"); } catch (e) { last = null; }
      if (last) {
        try { st.removeItem(LAST); } catch (e) { /* blocked */ }
        if (saved) {
          if (d[last.key]) { delete d[last.key]; dirty = true; }
        } else if (location.pathname === pathOf(last.action) && last.from &&
                   window.history && history.replaceState) {
          // A refusal shown at the form's own address: give the address bar the page's.
          Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
            if (keyOf(f) === last.key) f.setAttribute("data-refused", "");
          });
          history.replaceState(null, "", plainFrom(last.from));
        }
      }
      var maxAge = st === window.sessionStorage ? MAX_AGE : DEVICE_MAX_AGE;
      Object.keys(d).forEach(function (k) {
        if (!d[k] || now - d[k].at > maxAge) { delete d[k]; dirty = true; }
      });
      if (dirty) write(st, d);
    });
    if (saved) document.cookie = SAVED + "=; Path=/; Max-Age=0; SameSite=Lax";

    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
      if (form.hasAttribute("data-no-draft")) return;
      var key = keyOf(form);
      var st = areaOf(form);
      if (!st) return;
      var device = form.getAttribute("data-draft") === "device";
      var d = read(st)[key];
      if (d && restore(form, d.vals) && !form.hasAttribute("data-refused")) note(form, key);
      if (device) {
        // Kept while typed, not only when sent.
        var keep = function () {
          var vals = capture(form);
          if (!vals) return;
          var all = read(st);
          all[key] = { vals: vals, at: Date.now(), pending: !!(all[key] && all[key].pending) };
          write(st, all);
        };
        form.addEventListener("input", keep);
        form.addEventListener("change", keep);
        if (d && d.pending) sendWhenOnline(form, key, st);
      }
      form.addEventListener("submit", function (ev) {
        if (form.__sending) return;
        var vals = capture(form);
        var all = read(st);
        if (vals) {
          all[key] = { vals: vals, at: Date.now() };
          write(st, all);
        }
        try {
          st.setItem(LAST, JSON.stringify({
            key: key,
            action: form.getAttribute("action") || location.href,
            from: location.pathname + location.search
          }));
        } catch (e) { /* blocked */ }
        if (device && window.fetch) {
          // Sent only when the server answers; else kept on the device until it does.
          ev.preventDefault();
          var by = ev.submitter;
          if (by && by.name && !form.querySelector("input[type=hidden][data-submitter]")) {
            // A native send leaves out the button that was pressed: carry its value.
            var h = document.createElement("input");
            h.type = "hidden";
            h.name = by.name;
            h.value = by.value;
            h.setAttribute("data-submitter", "");
            form.appendChild(h);
          }
          reachable().then(function (ok) {
            if (ok) send(form);
            else sendWhenOnline(form, key, st);
          });
        }
      });
    });
    showFieldErrors();
    fillPlaces();

    // Signing out forgets what was kept of forms on this device (a shared office computer),
    // except a home visit still waiting for the network.
    var out = document.getElementById("logout-form");
    if (out) {
      out.addEventListener("submit", function () {
        areas().forEach(function (st) {
          var d = read(st);
          Object.keys(d).forEach(function (k) { if (!d[k].pending) delete d[k]; });
          write(st, d);
          try { st.removeItem(LAST); } catch (e) { /* blocked */ }
        });
      });
    }

    Array.prototype.forEach.call(document.querySelectorAll("a[data-back]"), function (a) {
      a.addEventListener("click", function (ev) {
        if (history.length > 1) { ev.preventDefault(); history.back(); }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
