{% autoescape off %}/*
 * The fake Upscope's stand-in for the loader of Upscope's installation code
 * (django_upscope/fake/sdk.py). It takes over window.Upscope, runs the calls queued in
 * Upscope.q before it arrived, and implements init, updateConnection and getLookupCode
 * against the fake. Not Upscope's code: a test double.
 */
(function (w) {
  "use strict";
  var config = {{ config }};
  var STORE = "upscope_fake_visitor";
  var IDENTITY = ["uniqueId", "identities", "tags", "integrationIds"];
  var state = { apiKey: null, visitorId: null, lookupCode: null, waiting: [], ready: null, timer: null };

  function post(url, body, keepalive) {
    return w.fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      keepalive: !!keepalive,
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("the fake Upscope answered " + response.status);
      }
      return response.json();
    });
  }

  function stored() {
    try { return w.localStorage.getItem(STORE); } catch (e) { return null; }
  }

  function remember(visitorId) {
    try { w.localStorage.setItem(STORE, visitorId); } catch (e) { /* private mode */ }
  }

  function pick(options) {
    var fields = {};
    IDENTITY.forEach(function (key) {
      if (options && Object.prototype.hasOwnProperty.call(options, key)) {
        fields[key] = options[key];
      }
    });
    return fields;
  }

  function heartbeat(seconds, max) {
    if (state.timer) { return; }
    var beats = 0;
    state.timer = w.setInterval(function () {
      beats += 1;
      if (beats > max) { w.clearInterval(state.timer); return; }
      post(config.heartbeatUrl, { apiKey: state.apiKey, visitorId: state.visitorId })
        .catch(function () { w.clearInterval(state.timer); });
    }, seconds * 1000);
  }

  function connect(fields) {
    var body = { apiKey: state.apiKey, visitorId: state.visitorId || stored(), url: w.location.href };
    Object.keys(fields).forEach(function (key) { body[key] = fields[key]; });
    return post(config.registerUrl, body).then(function (answer) {
      state.visitorId = answer.visitorId;
      state.lookupCode = answer.lookupCode;
      remember(answer.visitorId);
      heartbeat(answer.heartbeatSeconds, answer.maxHeartbeats);
      var waiting = state.waiting;
      state.waiting = [];
      waiting.forEach(function (callback) { callback(state.lookupCode); });
    });
  }

  var methods = {
    init: function (options) {
      state.apiKey = (options || {}).apiKey || null;
      state.ready = connect(pick(options));
    },
    updateConnection: function (options) {
      state.ready = (state.ready || Promise.resolve()).then(function () { return connect(pick(options)); });
    },
    getLookupCode: function (callback) {
      if (state.lookupCode) { callback(state.lookupCode); } else { state.waiting.push(callback); }
    },
  };

  function Upscope(method) {
    var implementation = methods[method];
    if (!implementation) {
      w.console.warn("The fake Upscope does not implement " + method + ".");
      return undefined;
    }
    return implementation.apply(null, Array.prototype.slice.call(arguments, 1));
  }

  var queued = (w.Upscope && w.Upscope.q) || [];
  w.Upscope = Upscope;
  queued.forEach(function (args) { Upscope.apply(null, Array.prototype.slice.call(args)); });

  w.addEventListener("pagehide", function () {
    if (state.visitorId && w.navigator.sendBeacon) {
      w.navigator.sendBeacon(config.leaveUrl, JSON.stringify({ apiKey: state.apiKey, visitorId: state.visitorId }));
    }
  });
})(window);
{% endautoescape %}
