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
  // The confirmed booking: GA4's e-commerce purchase (value before taxes, CAD, the reference as
  // transaction id) and the "booking confirmed" conversion, once per booking in this browser
  // (a reload of the confirmation page is not a second sale; GA4 also drops repeated ids).
  document.querySelectorAll("[data-purchase-id]").forEach(function (el) {
    var get = function (name) { return el.getAttribute("data-purchase-" + name); };
    var key = "purchase:" + get("id");
    try { if (window.localStorage.getItem(key)) return; window.localStorage.setItem(key, "1"); } catch (e) { /* private mode: send it */ }
    var purchase = {
      transaction_id: get("id"),
      value: parseFloat(get("value")),
      tax: parseFloat(get("tax")),
      currency: get("currency"),
      items: [{ item_id: get("item-id"), item_name: get("item-name"), price: parseFloat(get("price")), quantity: parseInt(get("quantity"), 10) }]
    };
    gtag("event", "purchase", purchase);
    gtag("event", "booking_confirmed", { transaction_id: purchase.transaction_id, value: purchase.value, currency: purchase.currency });
  });
})();
