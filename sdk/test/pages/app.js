// A typical app page: a list that changes, a search box, a ticking clock.
(function () {
  var list = document.getElementById("list");
  var n = 0;
  function add() {
    var li = document.createElement("li");
    li.textContent = "Order #" + ++n + " for customer " + n + " — 3 items, total 42.00 EUR";
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }
  document.getElementById("add").addEventListener("click", add);
  for (var i = 0; i < 20; i++) add();
  window.appTick = add;
})();
