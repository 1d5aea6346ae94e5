/* A stand-in for Telegram's telegram-web-app.js: reads the launch parameters Telegram puts in the URL's
   fragment (signed init data, theme parameters) into window.Telegram.WebApp, sets the --tg-theme-* CSS
   variables, and pays openInvoice through the sandbox's Stars simulation. */
(function () {
  "use strict";
  var sandbox = new URL(document.currentScript.src).origin;
  var launch = new URLSearchParams(window.location.hash.slice(1));
  var initData = launch.get("tgWebAppData") || "";
  var theme = {};
  try { theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}"); } catch (e) { theme = {}; }
  var unsafe = {};
  new URLSearchParams(initData).forEach(function (value, key) {
    try { unsafe[key] = key === "user" ? JSON.parse(value) : value; } catch (e) { unsafe[key] = value; }
  });
  var handlers = {};
  function emit(name, detail) { (handlers[name] || []).forEach(function (handler) { handler(detail); }); }
  var root = document.documentElement.style;
  Object.keys(theme).forEach(function (key) {
    root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), theme[key]);
  });
  root.setProperty("--tg-viewport-height", window.innerHeight + "px");
  function noop() {}
  var button = { text: "", isVisible: false, setText: function (t) { this.text = t; return this; },
                 show: function () { this.isVisible = true; return this; },
                 hide: function () { this.isVisible = false; return this; }, onClick: noop, offClick: noop };
  window.Telegram = { WebApp: {
    initData: initData, initDataUnsafe: unsafe, themeParams: theme, version: launch.get("tgWebAppVersion") || "8.0",
    platform: launch.get("tgWebAppPlatform") || "sandbox", colorScheme: launch.get("tgWebAppColorScheme") || "light",
    isExpanded: true, viewportHeight: window.innerHeight, MainButton: button, BackButton: button,
    HapticFeedback: { impactOccurred: noop, notificationOccurred: noop, selectionChanged: noop },
    ready: noop, expand: noop, close: noop,
    onEvent: function (name, handler) { (handlers[name] = handlers[name] || []).push(handler); },
    offEvent: function (name, handler) {
      handlers[name] = (handlers[name] || []).filter(function (h) { return h !== handler; });
    },
    showAlert: function (message, callback) { if (callback) { callback(); } },
    openInvoice: function (url, callback) {
      var user = unsafe.user || {};
      fetch(sandbox + "/_sandbox/stars/pay", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ invoice: url, user_id: user.id, first_name: user.first_name,
                               language_code: user.language_code }) })
        .then(function (response) { return response.json(); })
        .catch(function () { return { status: "failed" }; })
        .then(function (result) {
          var status = result.status === "paid" ? "paid" : "failed";
          emit("invoiceClosed", { url: url, status: status });
          if (callback) { callback(status); }
        });
    }
  } };
})();
