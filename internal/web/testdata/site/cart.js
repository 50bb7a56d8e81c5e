// The cart page of the end-to-end test site: paying fails loudly.
document.getElementById("pay").addEventListener("click", function () {
  document.getElementById("msg").textContent = "Something went wrong.";
  fetch("/api/pay", { method: "POST" }).then(function (r) {
    console.error("Payment failed (status " + r.status + ")");
  });
});
