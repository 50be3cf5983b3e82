/* The analytics pages' charts (admin/templates/admin/analytics/): drawn with Chart.js (vendored:
   admin/assets/vendor.txt) from the JSON of <script id="an-data">, one chart per currency (money is
   never added across currencies). No inline script: the admin's Content-Security-Policy allows only
   this origin's files. */
(function () {
  "use strict";
  var source = document.getElementById("an-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#2f6fb0", "#e08a1e", "#3a9d5d", "#8e5bb5", "#c94c4c", "#4bb3c4", "#b5a33a",
                 "#7a7a7a", "#d46fa6", "#5a6fd4"];

  function money(currency) {
    var options = { style: "currency", currency: currency, maximumFractionDigits: 0 };
    try {
      return new Intl.NumberFormat(data.locale, options);
    } catch (e) {
      return new Intl.NumberFormat(undefined, options);
    }
  }

  function options(format, extra) {
    var o = {
      animation: false,  // figures to read, drawn at once
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, ticks: { callback: function (v) { return format ? format.format(v) : v; } } },
        x: { ticks: { autoSkip: true, maxTicksLimit: 14 } }
      },
      plugins: {
        legend: { display: true },
        tooltip: {
          callbacks: {
            label: function (item) {
              if (item.raw === null || item.raw === undefined) { return null; }
              var value = format ? format.format(item.raw) : item.raw;
              return item.dataset.label + ": " + value;
            }
          }
        }
      }
    };
    Object.keys(extra || {}).forEach(function (k) { o[k] = extra[k]; });
    return o;
  }

  (data.sales || []).forEach(function (chart, i) {
    var canvas = document.getElementById("an-sales-" + i);
    if (!canvas) { return; }
    var format = money(chart.currency);
    var many = chart.labels.length > 40;
    new Chart(canvas, {
      type: "line",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (s, j) {
          return {
            label: s.label + " (" + chart.currency + ")",
            data: s.values,
            borderColor: palette[j % palette.length],
            backgroundColor: palette[j % palette.length],
            tension: 0.2,
            pointRadius: many ? 0 : 2
          };
        })
      },
      options: options(format)
    });
  });

  (data.forecast || []).forEach(function (chart, i) {
    var canvas = document.getElementById("an-forecast-" + i);
    if (!canvas) { return; }
    var format = money(chart.currency);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: chart.labels,
        datasets: [
          { label: "Actual (" + chart.currency + ")", data: chart.actual, borderColor: palette[0],
            backgroundColor: palette[0], pointRadius: 1, tension: 0.2 },
          { label: "Forecast", data: chart.predicted, borderColor: palette[1], backgroundColor: palette[1],
            borderDash: [6, 4], pointRadius: 1, tension: 0.2 },
          { label: "Upper", data: chart.upper, borderColor: "rgba(224,138,30,0)", pointRadius: 0,
            backgroundColor: "rgba(224,138,30,0.18)", fill: "+1" },
          { label: "Lower", data: chart.lower, borderColor: "rgba(224,138,30,0)", pointRadius: 0,
            backgroundColor: "rgba(224,138,30,0.18)", fill: false }
        ]
      },
      options: options(format, {
        plugins: {
          legend: { labels: { filter: function (item) { return item.text !== "Upper" && item.text !== "Lower"; } } },
          tooltip: { callbacks: { label: function (item) {
            if (item.raw === null || item.raw === undefined) { return null; }
            var name = item.dataset.label === "Upper" ? "High" : (item.dataset.label === "Lower" ? "Low" : item.dataset.label);
            return name + ": " + format.format(item.raw);
          } } }
        }
      })
    });
  });

  var acquisition = document.getElementById("an-acquisition");
  if (acquisition && data.acquisition) {
    var counts = options(null);
    counts.scales.y.ticks = { precision: 0 };
    counts.plugins.legend = { display: false };
    new Chart(acquisition, {
      type: "bar",
      data: {
        labels: data.acquisition.labels,
        datasets: [{ label: "New customers", data: data.acquisition.values, backgroundColor: palette[2] }]
      },
      options: counts
    });
  }

  var stock = document.getElementById("an-stock");
  if (stock && data.series) {
    var single = data.series.length === 1 ? money(data.series[0].currency) : null;
    new Chart(stock, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, j) {
          return { label: "Stock value (" + s.currency + ")", data: s.values,
                   borderColor: palette[j % palette.length], backgroundColor: palette[j % palette.length],
                   pointRadius: data.labels.length > 40 ? 0 : 2, tension: 0.2 };
        })
      },
      options: options(single)
    });
  }
})();
