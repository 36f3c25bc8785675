// The funds ledger chart: amounts per month, one stacked bar series per program. The data
// travels in the container's data-chart attribute (no inline script under our CSP).
(function () {
  function draw() {
    var el = document.getElementById('ledger-chart');
    if (!el || !window.echarts) { return; }
    var d = JSON.parse(el.getAttribute('data-chart') || '{"months":[],"series":[]}');
    var chart = window.echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({
      animationDuration: 300,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 80, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: d.months },
      yAxis: { type: 'value', name: '元' },
      series: d.series.map(function (s) {
        return { name: s.name, type: 'bar', stack: 'total', data: s.data };
      })
    });
    window.addEventListener('resize', function () { chart.resize(); });
    el.setAttribute('data-ready', '1');
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();
