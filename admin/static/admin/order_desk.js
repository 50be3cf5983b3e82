// The order desk (admin/templates/admin/order/show.html): a form with data-confirm asks before it
// posts (cancelling an order, marking money received). A file of its own: the admin's CSP allows
// no inline script.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
