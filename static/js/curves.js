// One Chart.js line chart of learning curves, shared by the run page and the attempts comparison:
// loss on the left axis, metrics on the right, one point per epoch.
window.skillproofCurves = function (canvas, labels, datasets) {
  return new Chart(canvas, {
    type: "line",
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { title: { display: true, text: "epoch" } },
        loss: { position: "left", title: { display: true, text: "loss" } },
        metric: { position: "right", title: { display: true, text: "metric" }, grid: { drawOnChartArea: false } },
      },
    },
  });
};
