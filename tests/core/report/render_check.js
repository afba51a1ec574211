// Injected by report_test as the first thing in a page's <head>: records every error, console
// warning and fetched resource from then on, and once the page has loaded writes what the
// browser laid out (charts, tables, links, text) as JSON into a hidden pre element, id
// render-check, which --dump-dom prints; if looking fails, the error is the JSON's "failed".
// Non-ASCII and <>& are \u-escaped so the dump leaves the JSON as it is.
(() => {
  const problems = [];
  addEventListener('error', (e) => {
    const t = e.target;
    problems.push(e.message || `failed to load ${t.src || t.href || t.tagName}`);
  }, true);
  for (const level of ['error', 'warn']) {
    const original = console[level];
    console[level] = (...args) => {
      problems.push(`console.${level}: ${args.join(' ')}`);
      original.apply(console, args);
    };
  }
  const size = (box) => ({width: box.width, height: box.height});
  const polylines = (g) => [...g.querySelectorAll('polyline')];
  // Where the lines of a series lie, from the browser's geometry.
  const extent = (boxes) => ({
    left: Math.min(...boxes.map((b) => b.x)),
    right: Math.max(...boxes.map((b) => b.x + b.width)),
    top: Math.min(...boxes.map((b) => b.y)),
    bottom: Math.max(...boxes.map((b) => b.y + b.height)),
  });
  // Each tick: its value as labelled and its pixel position.
  const xTicks = (svg) => [...svg.querySelectorAll('.axis-x text:not(.axis-label)')].map(
      (t) => ({label: t.textContent, at: t.x.baseVal[0].value}));
  const yTicks = (svg) => [...svg.querySelectorAll('.axis-y line.grid')].map(
      (l) => ({label: l.nextElementSibling.textContent, at: l.y1.baseVal.value}));
  const look = () => {
    const lineCharts = [...document.querySelectorAll('svg.line-chart')].map((svg) => ({
      id: svg.closest('figure').id,
      box: size(svg.getBoundingClientRect()),
      title: svg.querySelector('title').textContent,
      axisLabels: [...svg.querySelectorAll('.axis-label')].map((t) => t.textContent),
      xTicks: xTicks(svg),
      yTicks: yTicks(svg),
      legend: [...svg.querySelectorAll('.legend text')].map(
          (t) => ({text: t.textContent, width: t.getComputedTextLength()})),
      series: [...svg.querySelectorAll('g.series')].map((g) => ({
        name: g.dataset.series,
        points: polylines(g).reduce((n, l) => n + l.points.numberOfItems, 0),
        length: polylines(g).reduce((n, l) => n + l.getTotalLength(), 0),
        box: size(g.getBBox()),
        extent: extent(polylines(g).map((l) => l.getBBox())),
        stroke: polylines(g).map((l) => getComputedStyle(l).stroke),
      })),
    }));
    const barCharts = [...document.querySelectorAll('svg.bar-chart')].map((svg) => ({
      id: svg.closest('figure').id,
      box: size(svg.getBoundingClientRect()),
      xTicks: xTicks(svg),
      bars: [...svg.querySelectorAll('g.bar')].map((g) => {
        const rect = g.querySelector('rect');
        const box = rect ? rect.getBBox() : {x: 0, width: 0};
        return {label: g.dataset.label, x: box.x, width: box.width};
      }),
    }));
    const tables = [...document.querySelectorAll('table')].map((t) => ({
      caption: t.caption ? t.caption.textContent : '',
      rows: [...t.rows].map((r) => [...r.cells].map((c) => c.textContent)),
    }));
    return {
      title: document.title,
      problems,
      resources: performance.getEntriesByType('resource').map((r) => r.name),
      scripts: document.scripts.length,
      lineCharts,
      barCharts,
      tables,
      links: [...document.links].map((a) => ({text: a.textContent, href: a.href})),
      text: document.body.innerText,
    };
  };
  addEventListener('load', () => {
    let result;
    try {
      result = look();
    } catch (e) {
      result = {failed: String(e), problems};
    }
    const pre = document.createElement('pre');
    pre.id = 'render-check';
    pre.hidden = true;
    pre.textContent = JSON.stringify(result).replace(
        /[<>&\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    document.body.append(pre);
  });
})();
