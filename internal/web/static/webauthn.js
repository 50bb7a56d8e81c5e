// Security key ceremonies for the dashboard (no inline script: the CSP is
// default-src 'self'). The server sends WebAuthn options as JSON with
// base64url binary fields; this converts them for the browser API and
// sends the answer back the same way, with the page's CSRF token.
"use strict";
(function () {
  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function status(msg) {
    var el = document.getElementById("webauthn-status");
    if (el) { el.textContent = msg; el.hidden = !msg; }
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || "Request failed.");
        return j;
      });
    });
  }
  function fixCreds(list) {
    (list || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
  }
  function encode(cred) {
    var r = cred.response, out = { id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type, response: {
      clientDataJSON: bufToB64u(r.clientDataJSON) } };
    if (r.attestationObject) out.response.attestationObject = bufToB64u(r.attestationObject);
    if (r.authenticatorData) out.response.authenticatorData = bufToB64u(r.authenticatorData);
    if (r.signature) out.response.signature = bufToB64u(r.signature);
    if (r.userHandle) out.response.userHandle = bufToB64u(r.userHandle);
    return out;
  }
  function run(kind, button) {
    var csrf = button.getAttribute("data-csrf"), base = kind === "register" ? "/account/webauthn/register/" : "/login/webauthn/";
    if (!window.PublicKeyCredential) { status("This browser does not support security keys."); return; }
    status("");
    button.disabled = true;
    post(base + "begin", csrf).then(function (c) {
      var pk = c.options.publicKey;
      pk.challenge = b64uToBuf(pk.challenge);
      if (kind === "register") {
        pk.user.id = b64uToBuf(pk.user.id);
        fixCreds(pk.excludeCredentials);
        return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
          var name = document.getElementById("webauthn-name");
          return post(base + "finish", csrf, { state: c.state, name: name ? name.value : "", credential: encode(cred) });
        });
      }
      fixCreds(pk.allowCredentials);
      return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
        return post(base + "finish", csrf, { state: c.state, credential: encode(cred) });
      });
    }).then(function (done) {
      window.location.assign(done.redirect || "/account");
    }).catch(function (err) {
      status(err && err.message ? err.message : "The security key check failed.");
      button.disabled = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    [["webauthn-register", "register"], ["webauthn-login", "login"]].forEach(function (p) {
      var b = document.getElementById(p[0]);
      if (b) b.addEventListener("click", function () { run(p[1], b); });
    });
  });
})();
