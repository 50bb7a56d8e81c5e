// The sign-up page of the end-to-end test site.
document.getElementById("go").addEventListener("click", function () {
  document.getElementById("out").textContent = "Welcome aboard! Your account is ready.";
  fetch("/api/account", { method: "POST" });
  window.veil.identify("cust-1042");
  window.veil.track("Signed Up", { plan: "pro" });
});
