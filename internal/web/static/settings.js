// Project settings: the scrubbing "try it" box. Posts the sample with the
// rules form as currently edited to the dashboard's scrub-test endpoint
// (CSRF token in a header) and shows the output and counts per detector.
// No inline script: the page CSP is default-src 'self'.
"use strict";
(function () {
  var btn = document.getElementById("try-run");
  var form = document.getElementById("rules-form");
  if (!btn || !form) return;
  var out = document.getElementById("try-output");
  var counts = document.getElementById("try-counts");
  var result = document.getElementById("try-result");
  var errEl = document.getElementById("try-error");
  function fail(msg) {
    result.hidden = true;
    errEl.textContent = msg;
    errEl.hidden = false;
  }
  btn.addEventListener("click", function () {
    // FormData of a form with disabled fieldsets leaves their fields out:
    // read viewers' rules from the enabled copy the server rendered.
    var fs = form.querySelectorAll("fieldset[disabled]");
    for (var i = 0; i < fs.length; i++) fs[i].disabled = false;
    var body = new URLSearchParams(new FormData(form));
    for (var j = 0; j < fs.length; j++) fs[j].disabled = true;
    body.delete("csrf_token");
    btn.disabled = true;
    fetch(btn.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": btn.getAttribute("data-csrf") },
      body: body
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || "Request failed.");
        return j;
      });
    }).then(function (j) {
      errEl.hidden = true;
      out.textContent = j.output;
      var names = Object.keys(j.counts || {}).sort();
      counts.textContent = names.length
        ? names.map(function (n) { return n + ": " + j.counts[n]; }).join(", ") + " (total " + j.total + ")"
        : "none";
      result.hidden = false;
    }).catch(function (e) {
      fail(e.message);
    }).then(function () {
      btn.disabled = false;
    });
  });
})();
