// Benchmark helpers for bench.html (driven by run.mjs "bench").
window.buildBig = function (n) {
  var big = document.getElementById("big");
  var frag = document.createDocumentFragment();
  var made = 0;
  while (made < n) {
    var row = document.createElement("div");
    row.className = "row";
    var a = document.createElement("span");
    a.textContent = "Customer " + made + " ordered item " + (made * 7) % 100;
    var b = document.createElement("a");
    b.href = "/orders/" + made + "?ref=list";
    b.textContent = "details";
    row.appendChild(a);
    row.appendChild(b);
    frag.appendChild(row);
    made += 5; // row, span, text, a, text
  }
  big.appendChild(frag);
};
window.mutate = function (n) {
  var work = document.getElementById("work");
  for (var i = 0; i < n; i++) {
    var k = i % 4;
    if (k === 0) {
      var p = document.createElement("p");
      p.textContent = "row " + i;
      work.appendChild(p);
    } else if (k === 1 && work.lastChild) {
      work.lastChild.textContent = "changed " + i;
    } else if (k === 2 && work.lastChild) {
      work.lastChild.setAttribute("data-i", String(i));
    } else if (work.firstChild) {
      work.removeChild(work.firstChild);
    }
  }
};
window.loadVeil = function (host, key) {
  var s = document.createElement("script");
  s.src = host + "/sdk/veil.js";
  s.setAttribute("data-key", key);
  s.setAttribute("data-host", host);
  s.setAttribute("data-auto-page", "false");
  document.head.appendChild(s);
};
