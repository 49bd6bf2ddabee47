// 颐养 Yiyang — signature pads: draw with a finger, a stylus (pressure widens the line) or a mouse,
// through pointer events; "撤销一笔" takes back the last stroke, "清除重签" starts again. When the
// pad's form is sent, the drawing goes with it as a PNG (data: URL) in the pad's hidden field; an
// untouched pad sends nothing. The canvas keeps its strokes in CSS pixels and redraws them when
// its size changes (rotating the tablet), at the screen's pixel density.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-signature-pad]"), function (pad) {
    var canvas = pad.querySelector("canvas");
    var output = pad.querySelector("[data-pad-output]");
    var form = pad.closest("form");
    if (!canvas || !output || !canvas.getContext) { return; }
    var context = canvas.getContext("2d");
    var strokes = [];
    var current = null;

    function resize() {
      var box = canvas.getBoundingClientRect();
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(box.width * ratio));
      canvas.height = Math.max(1, Math.round(box.height * ratio));
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      redraw();
    }
    function width(point) { return point.pressure > 0 && point.pressure !== 0.5 ? 1.5 + point.pressure * 3 : 2.5; }
    function drawStroke(stroke) {
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      if (stroke.length === 1) {
        context.beginPath();
        context.arc(stroke[0].x, stroke[0].y, width(stroke[0]) / 2, 0, 2 * Math.PI);
        context.fillStyle = "#111";
        context.fill();
        return;
      }
      for (var i = 1; i < stroke.length; i += 1) {
        context.beginPath();
        context.lineWidth = width(stroke[i]);
        context.moveTo(stroke[i - 1].x, stroke[i - 1].y);
        context.lineTo(stroke[i].x, stroke[i].y);
        context.stroke();
      }
    }
    function redraw() {
      context.clearRect(0, 0, canvas.width, canvas.height);
      strokes.forEach(drawStroke);
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top, pressure: event.pressure || 0 };
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      current = [point(event)];
      strokes.push(current);
      drawStroke(current);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) { return; }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      (events.length ? events : [event]).forEach(function (e) { current.push(point(e)); });
      drawStroke(current.slice(-events.length - 1));
    });
    function end() { current = null; }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    pad.querySelector("[data-pad-undo]").addEventListener("click", function () { strokes.pop(); redraw(); });
    pad.querySelector("[data-pad-clear]").addEventListener("click", function () { strokes = []; redraw(); });
    if (form) {
      form.addEventListener("submit", function () {
        output.value = strokes.length ? canvas.toDataURL("image/png") : "";
      });
    }
    window.addEventListener("resize", resize);
    resize();
  });
})();
