/* The account page asks Upscope for the visitor's lookup code and shows it, as Upscope's
 * widget would: the customer reads it out to the agent. */
(function (w, d) {
  "use strict";
  if (typeof w.Upscope !== "function") {
    return; // no snippet on this page (no public key configured)
  }
  w.Upscope("getLookupCode", function (code) {
    d.getElementById("upscope-lookup-code").textContent = code;
    d.getElementById("upscope-widget").hidden = false;
  });
})(window, document);
