// gridbox: small, optional enhancements. Every page works without this file.
(function () {
  "use strict";
  var body = document.body;
  // Kiosk: return to the home page (and end a staff session) after the idle
  // time since the last touch, instead of since the page loaded.
  var idle = parseInt(body.getAttribute("data-kiosk-idle") || "0", 10);
  if (idle > 0) {
    var url = body.getAttribute("data-idle-url") || "/";
    var meta = document.querySelector('meta[http-equiv="refresh"]');
    if (meta) { meta.parentNode.removeChild(meta); }
    var onHome = location.pathname === "/" && url === "/";
    var timer = null;
    var arm = function () {
      if (timer) { clearTimeout(timer); }
      if (!onHome) { timer = setTimeout(function () { location.href = url; }, idle * 1000); }
    };
    ["click", "keydown", "touchstart", "input", "scroll"].forEach(function (ev) {
      document.addEventListener(ev, arm, { passive: true });
    });
    arm();
  }
  // The box's own screen says it is alive; gridbox kiosk restarts a
  // browser whose pages stop saying so (hung).
  if (body.hasAttribute("data-screen") && window.fetch) {
    var beat = function () { fetch("/screen/beat", { cache: "no-store" }).catch(function () {}); };
    beat();
    setInterval(beat, 30000);
  }
  // Kiosk home: keep the scan field focused so a USB QR scanner's keystrokes
  // (the token, then Enter) always land in it.
  var scan = document.getElementById("scan");
  if (scan) {
    var refocus = function () {
      var a = document.activeElement;
      if (!a || a === body || a.tagName === "A") { scan.focus(); }
    };
    setInterval(refocus, 1000);
    scan.focus();
  }
})();
