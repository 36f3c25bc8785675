// The what-if's distribution chart: how many enrolments' monthly amount moves by how much,
// one bar series per 方案. The data travels in the container's data-chart attribute (no
// inline script under our CSP).
(function () {
  function draw() {
    var el = document.getElementById('whatif-chart');
    if (!el || !window.echarts) { return; }
    var d = JSON.parse(el.getAttribute('data-chart') || '{"buckets":[],"series":[]}');
    var chart = window.echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({
      animationDuration: 300,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: d.buckets, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: 'value', name: '人次' },
      series: d.series.map(function (s) {
        return { name: s.name, type: 'bar', data: s.data };
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
