// Stripe.js Payment Element, used when real Stripe keys are configured.
(function () {
  "use strict";
  var form = document.getElementById("stripe-payment-form");
  if (!form || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret"), locale: document.documentElement.lang });
  var payment = elements.create("payment");
  payment.mount("#payment-element");
  var message = document.getElementById("payment-message");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var button = document.getElementById("pay-button");
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return-url") } }).then(function (result) {
      if (result.error) {
        // A decline in our own words (Stripe's are English, and name lost or stolen cards);
        // anything else (an incomplete field) Stripe.js already words in the page's language.
        var declined = result.error.type === "card_error" &&
          (form.getAttribute("data-declined-" + (result.error.decline_code || "")) || form.getAttribute("data-declined-generic"));
        message.textContent = declined || result.error.message;
        button.disabled = false;
      }
    });
  });
})();
