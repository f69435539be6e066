/*
 * django-upscope's {% upscope_snippet %}: calls Upscope('init', data) with the data of
 * <script type="application/json" id="upscope-init">, so that no inline script is needed
 * (it works under a Content-Security-Policy). See docs/upscope-api.md, "The visitor side:
 * the JavaScript SDK".
 */
(function (w, d) {
  "use strict";
  var block = d.getElementById("upscope-init");
  if (!block) {
    return;
  }
  var data;
  try {
    data = JSON.parse(block.textContent);
  } catch (e) {
    return;
  }
  if (typeof w.Upscope !== "function") {
    // The queue of Upscope's installation code: calls made before the loader script
    // has arrived wait in Upscope.q, and the loader runs them in order.
    var queue = function () {
      queue.c(arguments);
    };
    queue.q = [];
    queue.c = function (args) {
      queue.q.push(args);
    };
    w.Upscope = queue;
  }
  // init comes first, before any other call of the page.
  w.Upscope("init", data);
})(window, document);
