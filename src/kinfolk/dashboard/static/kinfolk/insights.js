/* Draws the Insights charts with Chart.js (vendor/chart.umd.js) from the JSON in
   #insights-charts: {currency, charts: {canvas id: {type, labels, series: [{label, data}],
   horizontal, money}}}. Every chart's figures are also in the table after it, which stays open
   when a chart cannot be drawn (no JavaScript, no Chart.js, no data). */
(function () {
  "use strict";

  var source = document.getElementById("insights-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var spec = JSON.parse(source.textContent);
  var language = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(language, {
    style: "currency",
    currency: spec.currency,
    notation: "compact",
    maximumFractionDigits: 1,
  });
  var count = new Intl.NumberFormat(language, { maximumFractionDigits: 1 });
  var colours = ["#9cc3b4", "#1f5f4a"]; // predicted (light), actual (the accent)

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#667085";

  function dataset(chart, series, index) {
    var single = chart.series.length === 1;
    var colour = single ? "#1f5f4a" : colours[index % colours.length];
    return {
      label: series.label,
      data: series.data,
      backgroundColor: colour,
      borderColor: colour,
      borderRadius: chart.type === "bar" ? 4 : 0,
      borderWidth: chart.type === "line" ? 2 : 0,
      pointRadius: 0,
      pointHitRadius: 8,
      tension: 0.25,
      maxBarThickness: 36,
    };
  }

  function options(chart) {
    var format = chart.money ? money : count;
    var valueAxis = chart.horizontal ? "x" : "y";
    var categoryAxis = chart.horizontal ? "y" : "x";
    var scales = {};
    scales[valueAxis] = {
      beginAtZero: true,
      grid: { color: "#eef0f3" },
      ticks: {
        maxTicksLimit: 5,
        maxRotation: 0,
        callback: function (value) { return format.format(value); },
      },
    };
    scales[categoryAxis] = { grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } };
    return {
      indexAxis: chart.horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: chart.series.length > 1, position: "bottom", labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: function (context) {
              return context.dataset.label + ": " + format.format(context.parsed[valueAxis]);
            },
          },
        },
      },
      scales: scales,
    };
  }

  Object.keys(spec.charts).forEach(function (id) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    var chart = spec.charts[id];
    new Chart(canvas, {
      type: chart.type,
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (series, index) { return dataset(chart, series, index); }),
      },
      options: options(chart),
    });
    var box = canvas.parentElement;
    var table = box.nextElementSibling;
    if (table && table.hasAttribute("data-chart-table")) {
      table.open = false;
    }
  });

  // Canvases without data stay empty: hide them, their tables stay open.
  document.querySelectorAll(".chart-box canvas").forEach(function (canvas) {
    if (!spec.charts[canvas.id]) {
      canvas.parentElement.classList.add("unused");
    }
  });
})();
