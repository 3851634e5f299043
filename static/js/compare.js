// Two attempts' learning curves on one chart (curves.js): solid training, dashed validation, one colour
// per attempt.
(function () {
  const palette = ["#1f5fbf", "#b3261e"];

  function draw() {
    const source = document.getElementById("compare-curves");
    const canvas = document.getElementById("compare-chart");
    if (!source || !canvas || !window.Chart) return;
    const curves = JSON.parse(source.textContent || "[]");
    const epochs = Math.max(0, ...curves.map((c) => c.history.length));
    const datasets = [];
    curves.forEach((curve, i) => {
      const keys = new Set();
      curve.history.forEach((row) => Object.keys(row).forEach((k) => keys.add(k)));
      [...keys].filter((k) => !["epoch", "epochs", "seconds"].includes(k)).forEach((key) => {
        datasets.push({
          label: `${curve.label} ${key}`,
          data: curve.history.map((row) => row[key]),
          borderColor: palette[i % palette.length],
          backgroundColor: palette[i % palette.length],
          borderDash: key.startsWith("val_") ? [6, 4] : [],
          yAxisID: key.includes("loss") ? "loss" : "metric",
          tension: 0.2,
        });
      });
    });
    const labels = Array.from({ length: epochs }, (_, i) => i + 1);
    window.skillproofCurves(canvas, labels, datasets);
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
