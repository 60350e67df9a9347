// Enhancements only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var body = document.body;

  function track(name) {
    if (typeof window.billetterieTrack === "function") window.billetterieTrack(name);
  }

  // Analytics events (sent only when analytics.js loaded, i.e. GA_ID set and consent given).
  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest("[data-track]") : null;
    if (el) track(el.getAttribute("data-track"));
  });
  document.querySelectorAll("form[data-track-start]").forEach(function (form) {
    var started = false;
    form.addEventListener("input", function () {
      if (!started) { started = true; track(form.getAttribute("data-track-start")); }
    });
  });
  document.querySelectorAll("[data-track-event]").forEach(function (el) { track(el.getAttribute("data-track-event")); });

  // Booking form: one fieldset per seat, following the quantity.
  var quantity = document.getElementById("quantity");
  var attendees = document.getElementById("attendees");
  if (quantity && attendees) {
    var legend = attendees.getAttribute("data-legend") || "{{n}}";
    var sync = function () {
      var wanted = parseInt(quantity.value, 10) || 1;
      var seats = attendees.querySelectorAll("fieldset.attendee");
      for (var i = seats.length; i > wanted; i--) seats[i - 1].remove();
      var first = attendees.querySelector("fieldset.attendee");
      for (var n = seats.length + 1; n <= wanted && first; n++) {
        var copy = first.cloneNode(true);
        copy.setAttribute("data-seat", String(n));
        copy.querySelector("legend").textContent = legend.replace("{{n}}", String(n));
        copy.querySelectorAll(".field-error, .buyer-attends").forEach(function (p) { p.remove(); });
        copy.querySelectorAll(".seat-fields").forEach(function (f) { f.hidden = false; });
        copy.querySelectorAll(".has-error").forEach(function (f) { f.classList.remove("has-error"); });
        copy.querySelectorAll("input, label").forEach(function (el) {
          ["id", "name", "for"].forEach(function (a) {
            var v = el.getAttribute(a);
            if (v) el.setAttribute(a, v.replace(/^attendee_\d+_/, "attendee_" + n + "_"));
          });
          if (el.tagName === "INPUT") { el.value = ""; el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); }
        });
        attendees.appendChild(copy);
      }
    };
    quantity.addEventListener("change", sync);
    sync();
    // Seat 1 is the buyer's while the box is ticked: its own fields are not read, so not shown.
    var attends = document.getElementById("buyer_attends");
    if (attends) {
      var own = attends.closest("fieldset").querySelector(".seat-fields");
      var toggle = function () { if (own) own.hidden = attends.checked; };
      attends.addEventListener("change", toggle);
      toggle();
    }
  }

  // A form sent back with errors: its summary is the first thing read and focused.
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) summary.focus();

  // No double submissions while the server holds the seats.
  document.querySelectorAll("form#booking-form, form#test-card-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (form.getAttribute("data-sending")) { e.preventDefault(); return; }
      if (e.submitter && e.submitter.value === "update") return;
      form.setAttribute("data-sending", "1");
    });
  });

  // Live seat counts: Server-Sent Events from the city events' actors, polling as a fallback.
  var live = document.querySelectorAll("[data-live-event]");
  if (live.length) {
    var few = parseInt(body.getAttribute("data-few") || "10", 10);
    var label = function (n) {
      if (n <= 0) return body.getAttribute("data-i18n-sold-out");
      if (n === 1) return body.getAttribute("data-i18n-one-left");
      if (n <= few) return (body.getAttribute("data-i18n-few-left") || "").replace("{{count}}", String(n));
      return "";
    };
    var apply = function (id, available, capacity) {
      document.querySelectorAll('[data-available-for="' + id + '"]').forEach(function (el) {
        el.textContent = String(available);
        el.setAttribute("data-available", String(available));
      });
      document.querySelectorAll('[data-unit-for="' + id + '"]').forEach(function (el) {
        // French puts 0 and 1 in the singular, English only 1 (as the server's i18n::plural).
        var one = document.documentElement.lang === "fr" ? available < 2 : available === 1;
        el.textContent = el.getAttribute(one ? "data-one" : "data-other");
      });
      document.querySelectorAll('[data-bar-for="' + id + '"]').forEach(function (el) {
        el.max = capacity;
        el.value = Math.max(0, capacity - available);
      });
      document.querySelectorAll('[data-badge-for="' + id + '"]').forEach(function (el) {
        var text = label(available);
        if (text) { el.textContent = text; el.classList.remove("is-empty"); }
      });
    };
    var ids = [];
    live.forEach(function (el) {
      var id = el.getAttribute("data-live-event");
      if (ids.indexOf(id) < 0) ids.push(id);
    });
    if (window.EventSource) {
      var source = new EventSource("/live/availability?ids=" + ids.join(","));
      source.addEventListener("availability", function (e) {
        try {
          var d = JSON.parse(e.data);
          apply(d.city_event_id, d.available, d.capacity);
        } catch (err) { /* a malformed event changes nothing */ }
      });
    } else {
      setInterval(function () {
        ids.forEach(function (id) {
          fetch("/api/v1/availability/" + id).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
            if (d) apply(d.city_event_id, d.available, d.capacity);
          }).catch(function () {});
        });
      }, 10000);
    }
  }

  // Checkout: the hold's countdown.
  var countdown = document.getElementById("hold-countdown");
  if (countdown) {
    var end = Date.parse(countdown.getAttribute("data-expires-at"));
    var tick = function () {
      var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left === 0) {
        clearInterval(timer);
        var hold = document.getElementById("hold");
        if (hold) hold.textContent = countdown.getAttribute("data-expired-text");
        var pay = document.getElementById("pay-button");
        if (pay) pay.disabled = true;
      }
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  // Confirmation: wait for the webhook's confirmation, then show it.
  var status = document.getElementById("confirmation-status");
  if (status && status.getAttribute("data-status") === "pending") {
    var url = status.getAttribute("data-status-url");
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
        if (d && d.status !== "pending") window.location.reload();
        else setTimeout(poll, 1000);
      }).catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 800);
  }
})();
