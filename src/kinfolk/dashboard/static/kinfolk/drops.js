/* Draws the live drop's sell-through chart with Chart.js (vendor/chart.umd.js) from the JSON in
   #drop-chart-data: {labels, series: [{label, data}], max}. The page's figures refresh through
   htmx every few seconds; the JSON comes along (swapped out of band) and the chart follows.
   Without JavaScript or Chart.js the table of figures below the chart stays open. */
(function () {
  "use strict";

  var chart = null;
  var tableOpen = false; // the figures table folds away under the chart unless staff open it

  function spec() {
    var source = document.getElementById("drop-chart-data");
    return source ? JSON.parse(source.textContent) : null;
  }

  function options(max) {
    var language = document.documentElement.lang || "en";
    var count = new Intl.NumberFormat(language);
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: function (context) {
              return context.dataset.label + ": " + count.format(context.parsed.y);
            },
          },
        },
      },
      scales: {
        y: {
          beginAtZero: true,
          max: max, // the edition's size: the line climbs towards sold out
          grid: { color: "#eef0f3" },
          ticks: { maxTicksLimit: 5, callback: function (value) { return count.format(value); } },
        },
        x: {
          grid: { display: false },
          ticks: { autoSkip: true, maxTicksLimit: window.innerWidth < 640 ? 4 : 8, maxRotation: 0 },
        },
      },
    };
  }

  function draw() {
    var canvas = document.getElementById("drop-chart");
    var data = spec();
    if (!canvas || !data || typeof window.Chart === "undefined") {
      return;
    }
    var box = canvas.parentElement;
    var table = document.querySelector("#drop-sales [data-chart-table]");
    if (!data.labels.length) {
      box.classList.add("unused");
      return;
    }
    box.classList.remove("unused");
    if (table) {
      table.open = tableOpen;
    }
    var series = data.series[0];
    if (chart) {
      chart.data.labels = data.labels;
      chart.data.datasets[0].data = series.data;
      chart.options.scales.y.max = data.max;
      chart.update("none");
      return;
    }
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#667085";
    chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: series.label,
          data: series.data,
          borderColor: "#1f5f4a",
          backgroundColor: "rgba(31, 95, 74, .12)",
          borderWidth: 2,
          fill: true,
          pointRadius: 0,
          pointHitRadius: 8,
          stepped: true,
        }],
      },
      options: options(data.max),
    });
  }

  // Follow what staff choose (a click on the summary, also by keyboard); a refreshed table
  // arrives open and is folded again by draw().
  document.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest("#drop-sales summary");
    if (summary) {
      tableOpen = !summary.parentElement.open;
    }
  });
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
