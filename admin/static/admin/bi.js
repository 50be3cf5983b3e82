/* Analytics > BI dashboards: mounts the Superset dashboard named by #bi-data with the embedded SDK
   (window.supersetEmbeddedSdk, vendored from npm). The first guest token comes in the page; the
   SDK asks for a fresh one before it expires, fetched by POST (never in a URL). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("bi-data").textContent);
  var mount = document.getElementById("bi-frame");
  var failed = document.getElementById("bi-failed");
  var first = data.token;

  function fetchGuestToken() {
    if (first) {
      var token = first;
      first = null;
      return Promise.resolve(token);
    }
    return fetch(mount.dataset.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": mount.dataset.csrf, "Accept": "application/json" }
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("guest token: " + answer.status); }
      return answer.json();
    }).then(function (body) { return body.token; });
  }

  function fail() {
    failed.classList.remove("hidden");
    mount.classList.add("hidden");
  }

  if (!window.supersetEmbeddedSdk) { fail(); return; }
  window.supersetEmbeddedSdk.embedDashboard({
    id: data.id,
    supersetDomain: data.supersetDomain,
    mountPoint: mount,
    fetchGuestToken: fetchGuestToken,
    dashboardUiConfig: { hideTitle: false, hideChartControls: false, filters: { expanded: false } }
  }).catch(fail);
})();
