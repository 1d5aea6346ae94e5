// Draws every <div class="chart" data-series="id"> from the JSON in <script type="application/json" id="id">.
(function () {
  function draw(element) {
    var data = JSON.parse(document.getElementById(element.dataset.series).textContent);
    var xs = data.days.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
    var colours = ["#2f6fed", "#12805c", "#b54708", "#7a5af8"];
    var series = [{}], values = [xs];
    data.series.forEach(function (line, index) {
      series.push({ label: line.label, stroke: colours[index % colours.length], width: 2,
                    fill: index === 0 ? "rgba(47,111,237,0.08)" : undefined, scale: line.scale || "y" });
      values.push(line.values);
    });
    var axes = [{}, { scale: "y" }];
    if (data.series.some(function (line) { return line.scale === "usdt"; })) {
      axes.push({ scale: "usdt", side: 1, grid: { show: false } });
    }
    new uPlot({ width: element.clientWidth || 800, height: 260, series: series, axes: axes,
                scales: { x: { time: true } }, legend: { live: false } }, values, element);
  }
  document.querySelectorAll("div.chart[data-series]").forEach(draw);
})();
