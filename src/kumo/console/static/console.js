// Makes the server-rendered page live: listens to /api/stream and, when a change concerns this
// page, fetches the page again and swaps its [data-live] regions. Without this script the page is
// complete, only static.
(function () {
  "use strict";
  var page = document.body.dataset.page;
  var release = document.body.dataset.release;
  var busy = false;
  var again = false;

  function relevant(change) {
    if (page === "app") {
      return change.all || (change.releases || []).indexOf(release) >= 0;
    }
    return true;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var focused = document.activeElement && document.activeElement.id;
        fresh.querySelectorAll("[data-live][id]").forEach(function (region) {
          var current = document.getElementById(region.id);
          if (current) { current.replaceWith(document.importNode(region, true)); }
        });
        var status = fresh.getElementById("live-status");
        if (status) { document.getElementById("live-status").textContent = status.textContent; }
        if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
      })
      .catch(function () { /* the next change retries */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (!window.EventSource) { return; }
  var stream = new EventSource("/api/stream");
  var first = true;
  stream.addEventListener("hello", function () {
    // After a reconnect, changes may have been missed while the stream was down.
    if (!first) { refresh(); }
    first = false;
  });
  stream.addEventListener("change", function (event) {
    var change = JSON.parse(event.data);
    if (relevant(change)) { refresh(); }
  });
})();
