// Google Analytics, loaded only when GA_ID is set and the visitor accepted it in the banner.
(function () {
  "use strict";
  var me = document.currentScript || document.querySelector("script[data-ga-id]");
  var id = me && me.getAttribute("data-ga-id");
  if (!id) return;
  window.dataLayer = window.dataLayer || [];
  function gtag() { window.dataLayer.push(arguments); }
  gtag("js", new Date());
  gtag("config", id, { anonymize_ip: true });
  var s = document.createElement("script");
  s.async = true;
  s.src = "https://www.googletagmanager.com/gtag/js?id=" + encodeURIComponent(id);
  document.head.appendChild(s);
  window.billetterieTrack = function (name) { gtag("event", name); };
  document.querySelectorAll("[data-track-event]").forEach(function (el) { gtag("event", el.getAttribute("data-track-event")); });
})();
