// The live page's script: renders each view the server pushes over /events (see ../view.ts for its shape).
// Plain browser JavaScript, no dependencies, nothing fetched from anywhere but this server.

const number = new Intl.NumberFormat('en-US');
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const byId = (id) => document.getElementById(id);
const html = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
const down = (why) => `<span class="down-badge">DOWN</span><div class="why">${html(why)}</div>`;

/** A line chart of `series` (each a list of numbers or nulls, gaps where null), as inline SVG. */
function chart(series, colours, max) {
  const width = 240;
  const height = 30;
  const length = Math.max(2, ...series.map((values) => values.length));
  const top = Math.max(max ?? 0, ...series.flat().filter((v) => v !== null), 1);
  const paths = series.map((values, i) => {
    let d = '';
    let pen = false;
    values.forEach((value, x) => {
      if (value === null) {
        pen = false;
        return;
      }
      const px = ((x + length - values.length) / (length - 1)) * width;
      const py = height - 1 - (value / top) * (height - 2);
      d += `${pen ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
      pen = true;
    });
    return `<path d="${d}" fill="none" stroke="${colours[i]}" stroke-width="1.6" />`;
  });
  return `<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" aria-hidden="true">${paths.join('')}</svg>`;
}

function metric(label, body, note, extra = '') {
  return `<div class="metric ${extra}"><div class="label">${label}</div>${body}${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

function growing(history) {
  const recent = history.slice(-6).filter((v) => v !== null);
  return recent.length >= 3 && recent.at(-1) > recent[0] && recent.at(-1) > 0;
}

function pipelineCard(p, windowMs, at) {
  const accent = p.id === 'kafka-redis' ? 'var(--kafka)' : 'var(--rabbit)';
  const total = p.total.ok
    ? `<div class="value" data-testid="total-${p.id}" data-value="${p.total.value}">${number.format(p.total.value)}</div>`
    : `<div data-testid="total-${p.id}" data-down="true">${down(p.total.error)}</div>`;
  const rate =
    p.perSecond === null
      ? `<div class="value" data-testid="rate-${p.id}">–</div>`
      : `<div class="value" data-testid="rate-${p.id}" data-value="${p.perSecond}">${decimal.format(p.perSecond)} <small>msg/s</small></div>`;
  let latency;
  let latencyNote = '';
  if (!p.consumer.ok) {
    latency = `<div data-testid="latency-${p.id}" data-down="true">${down(`${p.consumerName}: ${p.consumer.error}`)}</div>`;
  } else if (!p.latency || p.latency.count === 0) {
    latency = `<div class="value" data-testid="latency-${p.id}">–</div>`;
    latencyNote = 'no message counted yet';
  } else {
    const { p50, p99, count, from } = p.latency;
    latency = `<div class="value" data-testid="latency-${p.id}" data-p50="${p50}" data-p99="${p99}">${number.format(p50)} <small>ms p50</small> · ${number.format(p99)} <small>ms p99</small></div>`;
    const span =
      at - from > windowMs - 2000 ? `last ${Math.round(windowMs / 60000)} min` : `since ${clock(from)}`;
    latencyNote = `${span}, ${number.format(count)} messages`;
  }
  const latencyChart = chart(
    [p.latencyHistory.map((point) => point.p50), p.latencyHistory.map((point) => point.p99)],
    [accent, '#868e96'],
  );
  const backlog = p.backlog.ok
    ? `<div class="value" data-testid="backlog-${p.id}" data-value="${p.backlog.value}">${number.format(p.backlog.value)} <small>messages</small></div>`
    : `<div data-testid="backlog-${p.id}" data-down="true">${down(p.backlog.error)}</div>`;
  let consumer;
  if (p.consumer.ok) {
    const m = p.consumer.value;
    const poison = m.poison ?? 0;
    consumer = `<b>${html(p.consumerName)}</b> up: counted <b>${number.format(m.counted ?? 0)}</b> · duplicates <b>${number.format(m.duplicate ?? 0)}</b> · poison <b class="${poison ? 'bad' : ''}">${number.format(poison)}</b>`;
  } else {
    consumer = `<span class="bad">${html(p.consumerName)} is not answering</span> (${html(p.consumer.error)})`;
  }
  const dead = p.deadLetters.ok
    ? `dead letters <b class="${p.deadLetters.value ? 'bad' : ''}" data-testid="dead-${p.id}">${number.format(p.deadLetters.value)}</b>`
    : `dead letters <span class="bad">unknown</span>`;
  return `<article class="pipeline ${p.id}" data-testid="pipeline-${p.id}">
    <h2>${html(p.label)} <span class="who">${html(p.broker)} → ${html(p.consumerName)} → ${html(p.store)}</span></h2>
    <div class="metrics">
      ${metric(`Counted in ${html(p.store)}`, total, 'messages (messages:total)')}
      ${metric('Counted per second', rate + chart([p.perSecondHistory], [accent]), '')}
      ${metric('End-to-end latency', latency + latencyChart, latencyNote)}
      ${metric(`Backlog (${html(p.broker)})`, backlog + chart([p.backlogHistory], [accent]), html(p.backlogWhat), growing(p.backlogHistory) ? 'growing' : '')}
    </div>
    <div class="consumer-line">${consumer} · ${dead}</div>
  </article>`;
}

function verdict(view) {
  const [kafka, rabbit] = view.pipelines;
  const value = (p) =>
    p.total.ok
      ? `<b data-testid="sum-${p.store.toLowerCase()}" data-value="${p.total.value}">${number.format(p.total.value)}</b>`
      : '<b class="down">down</b>';
  const totals = `<span class="totals"><span>Redis ${value(kafka)}</span><span>Valkey ${value(rabbit)}</span>${
    kafka.total.ok && rabbit.total.ok
      ? `<span>difference <b data-testid="sum-diff">${signed(kafka.total.value - rabbit.total.value)}</b></span>`
      : ''
  }</span>`;
  if (!kafka.total.ok || !rabbit.total.ok) {
    const which = [kafka, rabbit].filter((p) => !p.total.ok).map((p) => p.store);
    return { cls: 'down', html: `<strong>Cannot compare: ${which.join(' and ')} down</strong>${totals}` };
  }
  if (view.differences === 0) {
    return { cls: 'agree', html: `<strong>The two stores agree exactly</strong>${totals}` };
  }
  return {
    cls: 'differ',
    html: `<strong>${view.differences} counters differ</strong> <span class="hint">a consumer may be behind: see its backlog</span>${totals}`,
  };
}

function signed(n) {
  return n === 0 ? '0' : `${n > 0 ? '+' : '−'}${number.format(Math.abs(n))}`;
}

function countries(view) {
  if (view.countries.length === 0) {
    return '<tr><td class="empty">No message counted yet: send one to the edge (POST /input).</td></tr>';
  }
  const top = Math.max(1, ...view.countries.flatMap((row) => [row.redis ?? 0, row.valkey ?? 0]));
  const bar = (store, value, country) =>
    `<div class="bar-row ${store}"><span class="which">${store === 'redis' ? 'Redis' : 'Valkey'}</span><span class="track"><span class="fill" style="display:block;width:${value === null ? 0 : (value / top) * 100}%"></span></span><span class="n" data-testid="country-${html(country)}-${store}" ${value === null ? 'data-down="true">down' : `data-value="${value}">${number.format(value)}`}</span></div>`;
  const rows = view.countries.map((row) => {
    const diff = row.redis === null || row.valkey === null ? null : row.redis - row.valkey;
    return `<tr><td class="country">${html(row.country)}</td><td class="bars">${bar('redis', row.redis, row.country)}${bar('valkey', row.valkey, row.country)}</td><td class="diff ${diff === 0 ? 'zero' : 'nonzero'}" data-testid="country-${html(row.country)}-diff">${diff === null ? '?' : signed(diff)}</td></tr>`;
  });
  return `<tr><th>Country</th><th>Redis (Kafka pipeline) · Valkey (RabbitMQ pipeline)</th><th style="text-align:right">Difference</th></tr>${rows.join('')}`;
}

function listing(reading, good, name = (key) => key) {
  if (!reading.ok)
    return `<span class="bad">not answering</span> <span class="hint">${html(reading.error)}</span>`;
  const entries = Object.entries(reading.value).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '<span class="empty">none yet</span>';
  return entries
    .map(
      ([key, n]) =>
        `<div><span class="${good(key) ? '' : 'bad'}">${html(name(key))}</span>: <b>${number.format(n)}</b></div>`,
    )
    .join('');
}

function errors(view) {
  const edge = view.edge.ok ? { ok: true, value: view.edge.value.answers } : view.edge;
  const ingest = view.ingest.ok ? { ok: true, value: view.ingest.value.messages } : view.ingest;
  const box = (label, body) => `<div class="box"><div class="label">${label}</div>${body}</div>`;
  const poison = view.pipelines.map((p) => {
    const consumer = p.consumer.ok ? number.format(p.consumer.value.poison ?? 0) : '?';
    const dead = p.deadLetters.ok ? number.format(p.deadLetters.value) : '?';
    return box(
      `${html(p.label)}: undecodable`,
      `<div>poison: <b>${consumer}</b></div><div>in the dead-letter ${p.broker === 'Kafka' ? 'topic' : 'queue'}: <b>${dead}</b></div>`,
    );
  });
  return [
    box(
      'Edge answers to POST /input',
      listing(
        edge,
        (status) => status.startsWith('2'),
        (status) => `HTTP ${status}`,
      ),
    ),
    box(
      'Ingest, messages by outcome',
      listing(ingest, (outcome) => outcome === 'accepted'),
    ),
    ...poison,
  ].join('');
}

function render(view) {
  const status = byId('status');
  status.className = 'status live';
  status.textContent = `live · ${clock(view.at)}`;
  status.dataset.at = String(view.at);
  const { cls, html } = verdict(view);
  const banner = byId('verdict');
  banner.className = `verdict ${cls}`;
  banner.innerHTML = html;
  byId('pipelines').innerHTML = view.pipelines.map((p) => pipelineCard(p, view.windowMs, view.at)).join('');
  byId('countries').innerHTML = countries(view);
  byId('errors').innerHTML = errors(view);
}

const events = new EventSource('/events');
events.onmessage = (event) => render(JSON.parse(event.data));
events.onerror = () => {
  const status = byId('status');
  status.className = 'status lost';
  status.textContent = 'connection to tandem lost: retrying…';
};
