// A form with data-confirm asks before it posts: the order desk (cancelling an order, marking money
// received), the Models page (rolling a model back). A file of its own: the admin's CSP allows no
// inline script or event handler attribute.
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
