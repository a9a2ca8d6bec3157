// Live updates for the inbox and thread pages: listen to /events (the
// account's change feed) and, on a change, fetch this page again and
// swap in its parts marked data-live-part. The reply form is not among them, so
// what a person is typing stays. EventSource reconnects by itself and
// sends Last-Event-ID, so no change is missed across a reconnect.
(function () {
  "use strict";
  if (!window.EventSource || !document.querySelector("[data-live]")) {
    return;
  }
  var timer = null;
  var busy = false;
  var again = false;

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error(r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-part]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) {
            el.replaceWith(document.adoptNode(fresh));
          }
        });
      })
      .catch(function () {})
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  var events = new EventSource("/events");
  events.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  });
  // Behind the feed's retention: read the page afresh.
  events.addEventListener("reload", function () {
    location.reload();
  });
})();
