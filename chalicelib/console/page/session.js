/* The console's session: sign-in, the bearer token, the API, the network state. Every console
   page loads this first. window.Session:
     require(role?) -> Promise<user>  signed in with at least `role` (agent < supervisor < admin;
                                      "agent": a user with an agent profile), else off to the
                                      sign-in page (and back after)
     api(method, path, body?) -> Promise<JSON>  the admin API with the bearer token; a 401 asks
                                      the user to sign in again (a dialog: the page and its state
                                      stay) and retries; a failed GET is retried while offline;
                                      errors reject with .status and .message (the API's "error")
     user() -> {username, name, role, agent_id, queues} | null
     t: the page's texts; lang: "en" | "zh"; locale: "en-US" | "zh-CN"
     onNetwork(fn(online))            told when the API becomes unreachable and reachable again
   The session lives in localStorage ("switchboard.session"), shared by the tabs of one browser:
   signing in again in one tab renews the others. */
(function () {
  "use strict";
  var KEY = "switchboard.session";
  var ROLES = ["agent", "supervisor", "admin"];
  var HOME = {agent: "/console/desk", supervisor: "/console/board", admin: "/console/board"};
  var t = JSON.parse(document.getElementById("strings").textContent);
  var lang = document.documentElement.lang.indexOf("zh") === 0 ? "zh" : "en";
  var networkListeners = [];
  var online = true;
  var renewing = null;  // the promise of the sign-in dialog, while it is open

  function stored() {
    try { return JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  // ends_at: when the session ends by this browser's clock (expires_in from the answer), so a
  // clock that is off does not end it early or late
  function save(session) {
    session.ends_at = Date.now() + session.expires_in * 1000;
    localStorage.setItem(KEY, JSON.stringify(session));
  }
  function expired(session) { return !session || !session.ends_at || session.ends_at <= Date.now(); }
  function atLeast(user, role) { return ROLES.indexOf(user.role) >= ROLES.indexOf(role || "agent"); }
  function withLang(path) { return path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang; }

  function setOnline(now) {
    if (now === online) return;
    online = now;
    var banner = document.getElementById("network");
    if (banner) banner.hidden = now;
    document.body.dataset.network = now ? "online" : "offline";
    networkListeners.forEach(function (fn) { try { fn(now); } catch (e) { /* a listener's own */ } });
  }
  window.addEventListener("offline", function () { setOnline(false); });

  function signIn(username, password) {
    return fetch("/console/session", {
      method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
      body: JSON.stringify({username: username, password: password})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = new Error(response.status === 401 ? t.wrong_password : (body.error || response.statusText));
          error.status = response.status;
          throw error;
        }
        save(body);
        return body;
      });
    });
  }

  // The session ended (expired, or refused): ask again in a dialog, keep the page as it is.
  function renew() {
    if (renewing) return renewing;
    var dialog = document.getElementById("sign-in-dialog");
    var form = document.getElementById("sign-in-again");
    var before = stored();
    if (before && before.user) form.elements.username.value = before.user.username;
    renewing = new Promise(function (resolve) {
      function submitted(event) {
        event.preventDefault();
        var error = form.querySelector(".error");
        error.textContent = "";
        signIn(form.elements.username.value, form.elements.password.value).then(function (session) {
          form.removeEventListener("submit", submitted);
          form.elements.password.value = "";
          dialog.close();
          renewing = null;
          if (before && before.user && before.user.username !== session.user.username) {
            location.reload();  // another person: their own page, not this one's state
            return;
          }
          resolve(session);
        }, function (failure) { error.textContent = failure.message; });
      }
      form.addEventListener("submit", submitted);
      document.body.dataset.session = "ended";
      if (!dialog.open) dialog.showModal();
      (form.elements.username.value ? form.elements.password : form.elements.username).focus();
    }).then(function (session) { document.body.dataset.session = "active"; return session; });
    return renewing;
  }

  // Another tab signed in again: take its session, close our dialog.
  window.addEventListener("storage", function (event) {
    if (event.key !== KEY) return;
    var session = stored();
    if (!session || expired(session)) return;
    var dialog = document.getElementById("sign-in-dialog");
    if (renewing && dialog.open) {
      var form = document.getElementById("sign-in-again");
      form.elements.username.value = session.user.username;
    }
  });

  function failure(response, body) {
    var error = new Error((body && body.error) || (response.status === 403 ? t.forbidden : response.statusText));
    error.status = response.status;
    error.body = body;
    return error;
  }

  function api(method, path, body, attempt) {
    attempt = attempt || 0;
    var session = stored();
    if (expired(session)) return renew().then(function () { return api(method, path, body, attempt); });
    var headers = {Accept: "application/json", Authorization: "Bearer " + session.token};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {method: method, headers: headers,
                        body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        setOnline(true);
        if (response.status === 401) {
          return renew().then(function () { return api(method, path, body, attempt); });
        }
        var type = response.headers.get("Content-Type") || "";
        var read = type.indexOf("json") >= 0 ? response.json() : response.text();
        return read.catch(function () { return null; }).then(function (parsed) {
          if (!response.ok) throw failure(response, parsed);
          return parsed;
        });
      }, function (networkError) {
        setOnline(false);
        // Only reads are retried: a write the server may have done must not be sent twice.
        if (method !== "GET") {
          var error = new Error(t.network_error);
          error.status = 0;
          throw error;
        }
        var wait = Math.min(30000, 1000 * Math.pow(2, Math.min(attempt, 5)));
        return new Promise(function (resolve) { setTimeout(resolve, wait); })
          .then(function () { return api(method, path, body, attempt + 1); });
      });
  }

  function showChrome(user) {
    var nav = document.getElementById("nav");
    if (nav) {
      nav.hidden = false;
      Array.prototype.forEach.call(nav.querySelectorAll("a"), function (link) {
        // the desk is for whoever works as an agent (a supervisor may too, with a profile)
        link.hidden = link.dataset.page === "desk" ? !user.agent_id : !atLeast(user, link.dataset.role);
        if (link.dataset.page === document.body.dataset.page) link.setAttribute("aria-current", "page");
      });
    }
    var who = document.getElementById("who");
    if (who) who.textContent = t.signed_in_as + ": " + (user.name || user.username);
    var out = document.getElementById("sign-out");
    if (out) {
      out.hidden = false;
      out.onclick = function () { localStorage.removeItem(KEY); location.href = withLang("/console"); };
    }
  }

  function require(role) {
    var session = stored();
    if (expired(session)) {
      location.href = withLang("/console") + "&next=" + encodeURIComponent(location.pathname);
      return new Promise(function () {});  // the page is going away
    }
    showChrome(session.user);
    if (!atLeast(session.user, role) || (role === "agent" && !session.user.agent_id)) {
      var main = document.getElementById("main");
      main.textContent = t.forbidden;
      document.body.dataset.state = "forbidden";
      return new Promise(function () {});
    }
    // a session ending while the page is open: ask before the next call fails
    var left = session.ends_at - Date.now();
    if (left < 2147483647) setTimeout(function () { if (expired(stored())) renew(); }, Math.max(0, left));
    document.body.dataset.session = "active";
    return Promise.resolve(session.user);
  }

  function onSignInPage(form) {
    var next = new URLSearchParams(location.search).get("next");
    document.body.dataset.state = "ready";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector(".error");
      error.textContent = "";
      signIn(form.elements.username.value, form.elements.password.value).then(function (session) {
        var home = HOME[session.user.role];
        var target = next && next.indexOf("/console/") === 0 ? next : home;  // never off-site
        location.href = withLang(target);
      }, function (failure) { error.textContent = failure.message; });
    });
  }

  window.Session = {
    require: require, api: api, t: t, lang: lang,
    locale: lang === "zh" ? "zh-CN" : "en-US",
    user: function () { var s = stored(); return expired(s) ? null : s.user; },
    token: function () { var s = stored(); return expired(s) ? null : s.token; },
    onNetwork: function (fn) { networkListeners.push(fn); },
    onSignInPage: onSignInPage
  };
})();
