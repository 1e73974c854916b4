// gridbox: small enhancements of our own. Every page works without this
// file; on the kiosk it adds what a villager without a keyboard needs: the
// idle reset that counts touches, the 大字 switch, on-screen keypads and the
// voice recorder.
(function () {
  "use strict";
  var html = document.documentElement, body = document.body;
  html.classList.add("js");
  var each = function (sel, fn) { Array.prototype.forEach.call(document.querySelectorAll(sel), fn); };

  // ---- Staff tables on a phone are cards (gridbox.css): each cell is
  // labelled with its column's heading.
  if (body.classList.contains("staff")) {
    each("main table", function (t) {
      var heads = Array.prototype.map.call(t.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      if (!heads.length) { return; }
      Array.prototype.forEach.call(t.querySelectorAll("tbody tr, tfoot tr"), function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (td) {
          if (heads[col] && !td.hasAttribute("data-label")) { td.setAttribute("data-label", heads[col]); }
          col += td.colSpan || 1;
        });
      });
    });
  }

  // ---- Idle: back to the home page (ending a staff session on the kiosk)
  // after data-kiosk-idle seconds without a touch, key or recording, with
  // a warning data-idle-warn seconds before. Page age does not count.
  var idle = parseInt(body.getAttribute("data-kiosk-idle") || "0", 10);
  var warn = parseInt(body.getAttribute("data-idle-warn") || "0", 10);
  var idleURL = body.getAttribute("data-idle-url") || "/";
  var dialog = document.getElementById("idle-warning");
  var count = document.getElementById("idle-count");
  var last = Date.now(), timer = null;
  var onHome = location.pathname === "/" && idleURL !== "/idle";
  var armed = function () { return idle > 0 && (!onHome || html.classList.contains("large")); };
  var schedule = function () {
    clearTimeout(timer);
    if (!armed()) { return; }
    var warnIn = last + (idle - warn) * 1000 - Date.now();
    timer = setTimeout(warning, Math.max(0, warnIn));
  };
  var warning = function () {
    var left = Math.ceil((last + idle * 1000 - Date.now()) / 1000);
    if (left <= 0) { location.href = idleURL; return; }
    if (dialog && dialog.hidden) {
      dialog.hidden = false;
      var b = dialog.querySelector("button");
      if (b) { b.focus({ preventScroll: true }); }
    }
    if (count) { count.textContent = left; }
    timer = setTimeout(warning, 1000);
  };
  var activity = function () {
    last = Date.now();
    if (dialog && !dialog.hidden) { dialog.hidden = true; }
    schedule();
  };
  ["pointerdown", "touchstart", "keydown", "input", "wheel"].forEach(function (ev) {
    document.addEventListener(ev, activity, { passive: true, capture: true });
  });
  window.addEventListener("pageshow", activity);
  schedule();

  // ---- 大字: 125 % text in place, so nothing typed is lost; the cookie
  // keeps it for the next pages (the idle reset clears it).
  each("[data-textsize]", function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      var on = !html.classList.contains("large");
      html.classList.toggle("large", on);
      document.cookie = "gb_large=" + (on ? "1; path=/; SameSite=Strict" : "; path=/; SameSite=Strict; max-age=0");
      a.setAttribute("aria-pressed", on ? "true" : "false");
      a.href = "/textsize?big=" + (on ? "0" : "1") + "&back=" + encodeURIComponent(location.pathname + location.search);
      activity();
    });
  });

  // Print buttons exist only where printing can work (with JavaScript).
  each("[data-print]", function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // The box's own screen says it is alive; gridbox kiosk restarts a
  // browser whose pages stop saying so (hung).
  if (body.hasAttribute("data-screen") && window.fetch) {
    var beat = function () { fetch("/screen/beat", { cache: "no-store" }).catch(function () {}); };
    beat();
    setInterval(beat, 30000);
  }

  // ---- Scan field: keep it focused so a USB QR scanner's keystrokes (the
  // token, then Enter) always land in it.
  var scan = document.getElementById("scan");
  var refocus = function () {
    var a = document.activeElement;
    if (scan && (!a || a === body || a.tagName === "A" || (a.tagName === "BUTTON" && a.closest(".keypad")))) {
      scan.focus({ preventScroll: true });
    }
  };
  if (scan) {
    setInterval(refocus, 1000);
    refocus();
  }

  // ---- On-screen keypads: the field they fill is read-only (no system
  // keyboard pops up); a receipt code is written with its dash.
  var formatCode = function (v) {
    var raw = v.toUpperCase().replace(/[^0-9A-Z]/g, "").slice(0, 8);
    return raw.length > 4 ? raw.slice(0, 4) + "-" + raw.slice(4) : raw;
  };
  each(".keypad[data-keypad]", function (pad) {
    // "@focus": a keyboard for the form's fields, filling the one last
    // touched; the fields stay writable for a real keyboard.
    var multi = pad.getAttribute("data-keypad") === "@focus";
    var fields = multi ? pad.closest("form").querySelectorAll("[data-keypad-input]") : [];
    var input = multi ? fields[0] : document.getElementById(pad.getAttribute("data-keypad"));
    if (!input) { return; }
    var code = pad.getAttribute("data-kind") === "code";
    pad.hidden = false;
    if (multi) {
      Array.prototype.forEach.call(fields, function (f) {
        f.setAttribute("inputmode", "none");
        f.addEventListener("focus", function () { input = f; });
      });
    } else {
      input.readOnly = true;
      input.setAttribute("inputmode", "none");
    }
    var upper = false;
    pad.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the focus where it is
    pad.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-key]");
      if (!b) { return; }
      var k = b.getAttribute("data-key"), v = input.value;
      var max = parseInt(input.getAttribute("maxlength") || "64", 10);
      if (k === "shift") {
        upper = !upper;
        b.setAttribute("aria-pressed", upper ? "true" : "false");
        each(".keypad [data-key]", function (key) {
          var c = key.getAttribute("data-key");
          if (c.length === 1 && c.toLowerCase() !== c.toUpperCase()) {
            c = upper ? c.toUpperCase() : c.toLowerCase();
            key.setAttribute("data-key", c);
            key.textContent = c;
          }
        });
        return;
      }
      if (k === "clear") {
        v = "";
      } else if (k === "back") {
        v = code ? formatCode(v).replace(/-$/, "").slice(0, -1) : v.slice(0, -1);
      } else {
        v += k;
      }
      if (code) { v = formatCode(v); }
      if (v.length > max) { return; }
      input.value = v;
      input.removeAttribute("aria-invalid");
      refocus();
    });
  });

  // ---- Microphone: where recording cannot work (no microphone, no
  // permission, an old browser), the voice buttons say so.
  var noMic = function () {
    each("[data-needs-mic]", function (a) {
      a.classList.add("off");
      var n = a.querySelector(".nomic");
      if (n) { n.hidden = false; }
    });
    var rec = document.querySelector("[data-recorder]"), msg = document.querySelector("[data-rec-nomic]");
    if (rec && msg) { rec.hidden = true; msg.hidden = false; }
  };
  var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  if (document.querySelector("[data-needs-mic], [data-recorder]")) {
    if (!canRecord) {
      noMic();
    } else {
      navigator.mediaDevices.enumerateDevices().then(function (ds) {
        if (!ds.some(function (d) { return d.kind === "audioinput"; })) { noMic(); }
      }, noMic);
      if (navigator.permissions && navigator.permissions.query) {
        navigator.permissions.query({ name: "microphone" }).then(function (p) {
          if (p.state === "denied") { noMic(); }
        }, function () {});
      }
    }
  }

  // ---- Voice recorder: press to record (Opus in WebM, 24 kbit/s, at most
  // data-max seconds), listen back, record again, send. The recording goes
  // into the form's file field, so sending is a normal form post.
  var rec = document.querySelector("[data-recorder]");
  if (rec && canRecord) {
    var q = function (s) { return rec.querySelector(s); };
    var start = q("[data-rec-start]"), stop = q("[data-rec-stop]"), send = q("[data-rec-send]"),
      play = q("[data-rec-play]"), again = q("[data-rec-again]"), status = q("[data-rec-status]"),
      timerBox = q("[data-rec-timer]"), timeEl = q("[data-rec-time]"), prog = q("[data-rec-progress]"),
      audio = q("[data-rec-audio]"), file = q("[data-rec-file]");
    var max = parseInt(rec.getAttribute("data-max") || "60", 10);
    var mr = null, stream = null, chunks = [], t0 = 0, tick = null, url = null;
    var show = function (state) {
      start.hidden = state !== "idle";
      stop.hidden = state !== "recording";
      [send, play, again].forEach(function (b) { b.hidden = state !== "done"; });
      timerBox.hidden = state === "idle";
      rec.classList.toggle("recording", state === "recording");
      rec.setAttribute("data-state", state);
    };
    var stopRec = function () {
      clearInterval(tick);
      if (mr && mr.state !== "inactive") { mr.stop(); }
    };
    var finished = function () {
      stream.getTracks().forEach(function (t) { t.stop(); });
      var took = Date.now() - t0;
      if (took < 1000) {
        show("idle");
        status.textContent = "录得太短了。请按“开始说话”，说完再按“说完了”。";
        return;
      }
      var blob = new Blob(chunks, { type: "audio/webm" });
      if (url) { URL.revokeObjectURL(url); }
      url = URL.createObjectURL(blob);
      audio.src = url;
      var dt = new DataTransfer();
      dt.items.add(new File([blob], "voice.webm", { type: "audio/webm" }));
      file.files = dt.files;
      show("done");
      status.textContent = "录好了。可以先听一遍；没问题就按“发送”。";
      activity();
    };
    start.addEventListener("click", function () {
      start.disabled = true;
      navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } }).then(function (s) {
        stream = s;
        chunks = [];
        var opts = { audioBitsPerSecond: 24000 };
        if (MediaRecorder.isTypeSupported("audio/webm;codecs=opus")) { opts.mimeType = "audio/webm;codecs=opus"; }
        try {
          mr = new MediaRecorder(s, Object.assign({ audioBitrateMode: "constant" }, opts));
        } catch (e) {
          mr = new MediaRecorder(s, opts);
        }
        mr.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
        mr.onstop = finished;
        mr.start(1000);
        t0 = Date.now();
        start.disabled = false;
        timeEl.textContent = "0";
        prog.value = 0;
        show("recording");
        status.textContent = "正在录音，请说话。说完了按“说完了”。";
        tick = setInterval(function () {
          var sec = Math.min(max, Math.floor((Date.now() - t0) / 1000));
          timeEl.textContent = sec;
          prog.value = sec;
          activity(); // recording counts as activity
          if (Date.now() - t0 >= max * 1000) { stopRec(); }
        }, 250);
      }, function () {
        start.disabled = false;
        noMic();
      });
    });
    stop.addEventListener("click", stopRec);
    play.addEventListener("click", function () {
      if (audio.paused) {
        audio.currentTime = 0;
        audio.play();
      } else {
        audio.pause();
      }
    });
    audio.addEventListener("play", function () { play.textContent = "停止播放"; });
    audio.addEventListener("pause", function () { play.textContent = "听一遍"; });
    audio.addEventListener("timeupdate", activity);
    again.addEventListener("click", function () {
      audio.pause();
      file.value = "";
      show("idle");
      status.textContent = "请按“开始说话”重新录。";
    });
    rec.addEventListener("submit", function (e) {
      if (!file.files || !file.files.length) { e.preventDefault(); return; }
      send.disabled = true;
      status.textContent = "正在发送……";
    });
    show("idle");
  }
})();
