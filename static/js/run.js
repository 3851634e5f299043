// Live learning curves: after each htmx refresh of the status panel, redraw from its JSON history.
(function () {
  let chart = null;
  const colours = { loss: "#b3261e", val_loss: "#e8918b", accuracy: "#1f5fbf", val_accuracy: "#8fb0e6" };

  function series(history) {
    const keys = new Set();
    history.forEach((row) => Object.keys(row).forEach((k) => keys.add(k)));
    return [...keys].filter((k) => !["epoch", "epochs", "seconds"].includes(k));
  }

  function draw() {
    const source = document.getElementById("run-history");
    const canvas = document.getElementById("curves");
    if (!source || !canvas || !window.Chart) return;
    const history = JSON.parse(source.textContent || "[]");
    const labels = history.map((row) => row.epoch);
    const datasets = series(history).map((key) => ({
      label: key,
      data: history.map((row) => row[key]),
      borderColor: colours[key] || "#555",
      backgroundColor: colours[key] || "#555",
      yAxisID: key.includes("loss") ? "loss" : "metric",
      tension: 0.2,
    }));
    if (!chart) {
      chart = window.skillproofCurves(canvas, labels, datasets);
    } else {
      chart.data.labels = labels;
      chart.data.datasets = datasets;
      chart.update();
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSwap", draw);
})();
