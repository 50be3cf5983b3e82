/* The admin home's charts (admin/templates/admin/index.html): sales per day (a line per currency,
   the orders as bars on their own axis) and orders by status (a doughnut), drawn with Chart.js
   (vendored: admin/assets/vendor.txt) from the JSON of <script id="dash-data">. No inline script:
   the admin's Content-Security-Policy allows only this origin's files. */
(function () {
  "use strict";
  var source = document.getElementById("dash-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#2f6fb0", "#e08a1e", "#3a9d5d", "#8e5bb5", "#c94c4c", "#4bb3c4", "#b5a33a",
                 "#7a7a7a", "#d46fa6", "#5a6fd4"];

  // one colour per status, whatever the period holds: paid work in blues and greens, money going
  // back in warm colours, what never sold in greys
  var statusColours = {
    pending: "#b0b7bf", paid: "#2f6fb0", processing: "#4bb3c4", shipped: "#8e5bb5",
    delivered: "#3a9d5d", completed: "#1f6b3a", cancelled: "#7a7a7a",
    refund_requested: "#e08a1e", partially_refunded: "#d4a017", refunded: "#c94c4c"
  };

  function money(currency) {
    try {
      return new Intl.NumberFormat(data.locale, { style: "currency", currency: currency });
    } catch (e) {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
    }
  }

  var sales = document.getElementById("dash-sales");
  if (sales) {
    var formats = {};
    var datasets = data.sales.map(function (series, i) {
      formats[series.currency] = money(series.currency);
      return {
        type: "line",
        label: "Sales (" + series.currency + ")",
        currency: series.currency,
        data: series.values,
        borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length],
        tension: 0.25,
        pointRadius: data.labels.length > 40 ? 0 : 2,
        yAxisID: "money",
        order: 1
      };
    });
    datasets.push({
      type: "bar",
      label: "Orders",
      data: data.orders,
      backgroundColor: "rgba(120, 120, 120, 0.25)",
      yAxisID: "orders",
      order: 2
    });
    // the money axis speaks the currency when there is one; amounts alone when several share it
    var first = data.sales.length === 1 ? formats[data.sales[0].currency] : null;
    new Chart(sales, {
      data: { labels: data.labels, datasets: datasets },
      options: {
        animation: false,  // figures to read, drawn at once (no half-drawn chart on a slow machine)
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          money: {
            position: "left",
            beginAtZero: true,
            ticks: { callback: function (v) { return first ? first.format(v) : v; } }
          },
          orders: {
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            ticks: { precision: 0 }
          },
          x: { ticks: { autoSkip: true, maxTicksLimit: 12 } }
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var currency = ctx.dataset.currency;
                return currency ? ctx.dataset.label + ": " + formats[currency].format(ctx.parsed.y)
                                : ctx.dataset.label + ": " + ctx.parsed.y;
              }
            }
          }
        }
      }
    });
  }

  var statuses = document.getElementById("dash-statuses");
  if (statuses) {
    new Chart(statuses, {
      type: "doughnut",
      data: {
        labels: data.statuses.labels,
        datasets: [{
          data: data.statuses.values,
          backgroundColor: data.statuses.keys.map(function (key, i) {
            return statusColours[key] || palette[i % palette.length];
          })
        }]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { position: "right" } }
      }
    });
  }
})();

/* Live figures: a new order (the socket's order.created, re-dispatched by realtime.js as a
   "market:realtime" event) adds to the tiles of its currency at once: a seller's own sub-order
   total, staff the order's total. The page's other figures (net, commission, charts) follow at
   the next load; the period always ends today, so a new order belongs to it. */
(function () {
  "use strict";
  var source = document.getElementById("dash-data");
  var locale = source ? JSON.parse(source.textContent).locale : undefined;

  function tile(kind, currency) {
    return document.querySelector(
      '.dash-value[data-live="' + kind + '"][data-currency="' + currency + '"]');
  }

  function show(el, value, currency) {
    el.dataset.raw = String(value);
    if (currency === null) {
      el.textContent = new Intl.NumberFormat(locale).format(value);
      return;
    }
    try {
      el.textContent = new Intl.NumberFormat(locale, { style: "currency", currency: currency })
        .format(value);
    } catch (e) {
      el.textContent = value.toFixed(2) + " " + currency;
    }
  }

  function flash(el) {
    el.classList.remove("dash-live");
    void el.offsetWidth;  // restart the highlight
    el.classList.add("dash-live");
  }

  document.addEventListener("market:realtime", function (event) {
    if (event.detail.name !== "order.created") {
      return;
    }
    var data = event.detail.data;
    var gross = tile("gross", data.currency);
    var orders = tile("orders", data.currency);
    if (!gross || !orders) {
      return;  // a currency this page shows no tiles for: counted at the next load
    }
    var newGross = Number(gross.dataset.raw) + Number(data.total);
    var newOrders = Number(orders.dataset.raw) + 1;
    show(gross, newGross, data.currency);
    show(orders, newOrders, null);
    flash(gross);
    flash(orders);
    var average = tile("average", data.currency);
    if (average) {
      show(average, newGross / newOrders, data.currency);
    }
  });
}());
