/* /admin/data-management: while an import is queued or running, poll the list (imports.json)
   every 3 seconds and update each row's status, progress, failed rows and error-file link. */
(function () {
  "use strict";
  var table = document.getElementById("dm-imports");
  if (!table) { return; }
  var pollUrl = table.getAttribute("data-poll");
  var errorsUrl = table.getAttribute("data-errors");
  var ACTIVE = { queued: true, running: true };

  function busy() {
    var labels = table.querySelectorAll(".dm-status .label");
    for (var i = 0; i < labels.length; i++) {
      var status = labels[i].className.replace(/.*dm-(\S+).*/, "$1");
      if (ACTIVE[status]) { return true; }
    }
    return false;
  }

  function render(row, item) {
    var status = row.querySelector(".dm-status");
    status.textContent = "";
    var label = document.createElement("span");
    label.className = "label dm-" + item.status;
    label.textContent = item.status.replace(/_/g, " ");
    status.appendChild(label);
    if (item.message) {
      status.appendChild(document.createElement("br"));
      var small = document.createElement("small");
      small.className = "text-muted";
      small.textContent = item.message;
      status.appendChild(small);
    }
    row.querySelector(".dm-progress").textContent =
      item.rows_done + item.rows_failed + " / " + (item.rows_total === null ? "?" : item.rows_total);
    row.querySelector(".dm-failed").textContent = item.rows_failed;
    var cell = row.querySelector(".dm-download");
    if (item.has_error_file && !cell.querySelector("a")) {
      var link = document.createElement("a");
      link.className = "btn btn-default btn-xs";
      link.href = errorsUrl.replace(/\/0\/errors$/, "/" + item.id + "/errors");
      link.textContent = "Error file";
      cell.appendChild(link);
    }
  }

  function poll() {
    if (!busy()) { return; }
    fetch(pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.items.forEach(function (item) {
          var row = table.querySelector('tr[data-id="' + item.id + '"]');
          if (row) { render(row, item); }
        });
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 3000);
}());
