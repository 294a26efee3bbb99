// Pricelens dashboard: the little JavaScript the pages use. Everything works without it; it only
// adds select-all for bulk actions, live progress for running jobs, and local times on hover.
(function () {
  "use strict";

  function updateSelected() {
    var boxes = document.querySelectorAll('input[name="ids"][form="bulk-form"]');
    var n = 0;
    boxes.forEach(function (b) { if (b.checked) { n += 1; } });
    document.querySelectorAll("[data-selected-count]").forEach(function (el) {
      el.textContent = n + " selected";
    });
  }

  function wireBulk() {
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach(function (b) {
          b.checked = all.checked;
        });
        updateSelected();
      });
    });
    document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach(function (b) {
      b.addEventListener("change", updateSelected);
    });
  }

  function pollProgress() {
    var rows = document.querySelectorAll("[data-progress-url]");
    if (!rows.length) { return; }
    var pending = rows.length;
    var anyFinished = false;
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-progress-url"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { return; }
          var bar = row.querySelector("progress");
          var text = row.querySelector("[data-progress-text]");
          if (bar && p.total) { bar.max = p.total; bar.value = p.done; }
          if (text) {
            text.textContent = p.total ? (p.done + " / " + p.total + " days") : p.status;
          }
          if (p.finished) { anyFinished = true; }
        })
        .catch(function () { /* the next poll retries */ })
        .finally(function () {
          pending -= 1;
          if (pending === 0) {
            if (anyFinished) { window.location.reload(); } else { window.setTimeout(pollProgress, 2000); }
          }
        });
    });
  }

  function localTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        t.title = t.title + "\n" + d.toLocaleString() + " (your time)";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireBulk();
    updateSelected();
    localTimes();
    window.setTimeout(pollProgress, 2000);
  });
})();
