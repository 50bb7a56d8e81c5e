// Page behaviour of adversarial.html (external: the page's CSP forbids inline script).
(function () {
  var host = document.getElementById("shadowhost");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = '<p title="ZQXSHADOWTITLE">ZQXSHADOWTEXT shadow.canary@example.com</p><input value="ZQXSHADOWINPUT">';
  var cv = document.getElementById("cv").getContext("2d");
  cv.fillText("ZQXCANVAS", 2, 12);
  // Text and attributes added later by script.
  setTimeout(function () {
    document.getElementById("later").appendChild(document.createTextNode("ZQXLATETEXT later.canary@example.com"));
    document.getElementById("mutate").firstChild.nodeValue = "ZQXMUTATEDTEXT";
    document.getElementById("btn").setAttribute("title", "ZQXLATETITLE");
    document.getElementById("btn").setAttribute("data-late", "ZQXLATEDATA");
    document.getElementById("link").setAttribute("href", "/later?q=ZQXLATEHREF#ZQXLATEFRAG");
    var s = document.createElement("style");
    document.head.appendChild(s);
    s.sheet.insertRule('.late::before { content: "ZQXINSERTRULE"; }', 0);
    var st = document.createElement("style");
    st.textContent = '.late2::before { content: "ZQXLATESTYLE"; }';
    document.head.appendChild(st);
    root.querySelector("p").textContent = "ZQXSHADOWLATE";
  }, 300);
})();
