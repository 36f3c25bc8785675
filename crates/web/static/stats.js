// 统计月报 charts: 低保 households per county or township (stacked urban/rural) and the
// month's expenditure by program. The data travels in the container's data-chart
// attribute, or (on the dashboard) comes from the report's API at data-src; no inline
// script under our CSP.
(function () {
  function draw(el, d) {
    if (!window.echarts) { return; }
    var chart = window.echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({
      animationDuration: 300,
      tooltip: { trigger: 'item' },
      legend: { top: 0 },
      grid: { left: 50, right: '42%', top: 40, bottom: 60 },
      xAxis: { type: 'category', data: d.units, axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', name: '户' },
      series: [
        { name: '城市低保户数', type: 'bar', stack: 'h', data: d.urban },
        { name: '农村低保户数', type: 'bar', stack: 'h', data: d.rural },
        { name: '本月支出（元）', type: 'pie', radius: ['18%', '32%'], center: ['80%', '55%'],
          data: d.spend, label: { formatter: '{b}' } }
      ]
    });
    window.addEventListener('resize', function () { chart.resize(); });
    el.setAttribute('data-ready', '1');
  }
  // The dashboard's chart from the report (GET /api/v1/stats/month).
  function fromReport(r) {
    var row = function (item) {
      for (var i = 0; i < r.rows.length; i++) { if (r.rows[i].item === item) { return r.rows[i]; } }
      return null;
    };
    var byColumn = r.columns.length > 0;
    var units = byColumn ? r.columns.map(function (c) { return c.name; }) : [r.scope_name];
    var values = function (item) { var x = row(item); return x ? (byColumn ? x.values : [x.total]) : []; };
    var spend = r.rows.filter(function (x) { return /_fen$/.test(x.item) && x.total !== 0; })
      .map(function (x) { return { name: x.label.split(' ')[0], value: x.total / 100 }; });
    return { units: units, urban: values('urban_households'), rural: values('rural_households'), spend: spend };
  }
  function start() {
    var el = document.getElementById('stats-chart');
    if (!el) { return; }
    var data = el.getAttribute('data-chart');
    if (data) { draw(el, JSON.parse(data)); return; }
    var src = el.getAttribute('data-src');
    if (!src || !window.fetch) { return; }
    fetch(src, { credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (r) { if (r) { draw(el, fromReport(r)); } });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
