// tuneline review: one example in focus, a virtual list, keyboard first.
// Every text from the data is set with textContent: nothing in it is ever
// parsed as markup. The server's Content-Security-Policy allows no inline
// script either.
'use strict';
(function () {
  const T = document.body.dataset.token;
  const ROW = 28;      // list row height, px (as in app.css)
  const PAGE = 200;    // rows fetched at once
  const MAX_PAGES = 30;
  const $ = (id) => document.getElementById(id);

  const st = {
    filters: {}, total: 0, pos: -1, gen: 0,
    pages: new Map(),  // page number -> rows (the current filter's)
    loading: new Map(),
    cur: null,         // the example in focus (the server's reply)
    undo: [],
    seq: 0,
    indexed: false,
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  async function api(path, params, body) {
    const u = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== '' && v != null) u.searchParams.set(k, v);
    }
    const init = { headers: { 'X-Tuneline-Token': T }, cache: 'no-store' };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(u, init);
    if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
    return r.json();
  }

  let toastTimer = 0;
  function toast(msg, err) {
    const t = $('toast');
    t.textContent = msg;
    t.className = 'show' + (err ? ' err' : '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = ''; }, err ? 5000 : 1800);
  }

  // ---- state and counts ----
  function showCounts(c) {
    const box = $('counts');
    box.replaceChildren();
    for (const [k, label] of [['accepted', 'accepted'], ['rejected', 'rejected'], ['edited', 'edited'], ['unreviewed', 'unreviewed']]) {
      const s = el('span', k);
      s.append(el('span', 'dot ' + k), ' ' + c[k] + ' ' + label);
      box.append(s);
    }
    if (c.changed) box.append(el('span', 'changed', '(' + c.changed + ' changed since review)'));
  }

  function fillSelect(sel, names, label) {
    const keep = sel.value;
    const have = new Set([...sel.options].map((o) => o.value));
    for (const n of names) {
      if (n === '' || have.has(n)) continue;
      const o = el('option', null, n);
      o.value = n;
      sel.append(o);
    }
    sel.value = keep;
  }

  async function refreshState() {
    const s = await api('/api/state');
    $('file').textContent = s.file;
    $('dec-file').textContent = s.decisions;
    showCounts(s.counts);
    fillSelect($('f-source'), s.sources);
    fillSelect($('f-type'), s.types);
    fillSelect($('f-kind'), s.kinds);
    $('indexing').textContent = s.error ? 'index stopped: ' + s.error
      : s.indexed ? (s.flagged ? '' : 'checking duplicates and limits…') : 'reading… ' + s.total.toLocaleString();
    const was = st.indexed;
    st.indexed = s.indexed;
    if (!was || !s.indexed) refreshTotal();
    return s;
  }

  // ---- the list: fetched in pages, only the visible rows in the DOM ----
  function query(extra) {
    return Object.assign({}, st.filters, extra);
  }

  function page(p) {
    if (st.pages.has(p)) return Promise.resolve(st.pages.get(p));
    if (st.loading.has(p)) return st.loading.get(p);
    const gen = st.gen;
    const pr = api('/api/list', query({ from: p * PAGE, n: PAGE })).then((r) => {
      st.loading.delete(p);
      if (gen !== st.gen) return r.rows;
      st.pages.set(p, r.rows);
      if (st.pages.size > MAX_PAGES) {
        for (const k of st.pages.keys()) {
          if (Math.abs(k - p) > 3 && Math.abs(k - Math.floor(st.pos / PAGE)) > 1) { st.pages.delete(k); break; }
        }
      }
      setTotal(r.total);
      render();
      return r.rows;
    }, (e) => { st.loading.delete(p); throw e; });
    st.loading.set(p, pr);
    return pr;
  }

  async function rowAt(pos) {
    const rows = await page(Math.floor(pos / PAGE));
    return rows[pos % PAGE];
  }

  function setTotal(n) {
    if (n === st.total) return;
    st.total = n;
    $('spacer').style.height = (n * ROW) + 'px';
    $('matching').textContent = n.toLocaleString() + (hasFilter() ? ' matching' : ' examples');
  }

  function hasFilter() {
    return Object.values(st.filters).some((v) => v !== '');
  }

  async function refreshTotal() {
    const r = await api('/api/list', query({ from: 0, n: 1 }));
    setTotal(r.total);
    render();
    if (st.pos < 0 && r.total > 0) go(0);
  }

  const pool = [];
  function render() {
    const list = $('list');
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 2);
    const count = Math.ceil(list.clientHeight / ROW) + 4;
    const last = Math.min(st.total, first + count);
    while (pool.length < count) {
      const r = el('div', 'row');
      r.append(el('span', 'dot'), el('span', 'txt'), el('span', 'sc'));
      r.addEventListener('click', () => { if (r.dataset.pos) go(Number(r.dataset.pos)); });
      $('spacer').append(r);
      pool.push(r);
    }
    for (let k = 0; k < pool.length; k++) {
      const r = pool[k];
      const pos = first + k;
      if (pos >= last) { r.hidden = true; continue; }
      r.hidden = false;
      r.style.top = (pos * ROW) + 'px';
      r.dataset.pos = pos;
      const rows = st.pages.get(Math.floor(pos / PAGE));
      const row = rows && rows[pos % PAGE];
      if (!rows) page(Math.floor(pos / PAGE)).catch((e) => toast(e.message, true));
      r.className = 'row' + (row ? ' ' + row.state : '') + (pos === st.pos ? ' cur' : '');
      r.children[1].textContent = row ? row.snippet || row.id : '…';
      r.children[2].textContent = row && row.score != null ? row.score : '';
      r.title = row ? row.id + (row.flags ? ' · ' + row.flags.join(', ') : '') : '';
    }
  }

  function scrollIntoList(pos) {
    const list = $('list');
    const top = pos * ROW;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW - list.clientHeight;
  }

  function resetList() {
    st.gen++;
    st.pages.clear();
    st.loading.clear();
    st.pos = -1;
    st.total = -1;
    $('list').scrollTop = 0;
    refreshTotal().catch((e) => toast(e.message, true));
  }

  // ---- the example in focus ----
  async function go(pos) {
    if (pos < 0 || pos >= st.total) return;
    if (editing()) closeEditor();
    st.pos = pos;
    scrollIntoList(pos);
    render();
    const seq = ++st.seq;
    try {
      const row = await rowAt(pos);
      if (!row || seq !== st.seq) return;
      const ex = await api('/api/example', { i: row.i });
      if (seq !== st.seq) return;
      show(ex);
    } catch (e) {
      toast(e.message, true);
    }
  }

  function msgBox(m, cls) {
    const b = el('div', 'msg ' + m.role + (cls ? ' ' + cls : ''));
    b.append(el('div', 'role', cls === 'rejected-reply' ? 'rejected reply' : (cls === 'chosen-reply' ? 'chosen reply' : m.role)));
    let text = m.content || '';
    if (m.tool_calls) for (const c of m.tool_calls) text += '\n→ ' + c.function.name + '(' + c.function.arguments + ')';
    b.append(el('div', 'text', text));
    return b;
  }

  function provenance(meta, passage) {
    const dl = $('prov');
    dl.replaceChildren();
    const add = (k, v) => { if (v == null || v === '' || v === 0) return; dl.append(el('dt', null, k), el('dd', null, v)); };
    const m = meta || {};
    const p = passage || {};
    add('source', m.source || p.source);
    add('title', m.title);
    add('section', m.section || p.section);
    const ps = m.page_start || p.page_start, pe = m.page_end || p.page_end;
    if (ps) add('pages', ps === pe || !pe ? 'page ' + ps : 'pages ' + ps + '–' + pe);
    const ts = m.time_start || p.time_start, te = m.time_end || p.time_end;
    if (ts || te) add('time', clock(ts) + ' – ' + clock(te));
    add('speaker', m.speaker);
    add('kind', m.kind);
    add('question type', m.question_type);
    add('persona', m.persona);
    add('model', m.model);
    add('origin', m.origin);
  }

  function clock(s) {
    s = Math.floor(s || 0);
    const h = Math.floor(s / 3600), mm = Math.floor(s / 60) % 60, ss = s % 60;
    return (h ? h + ':' + String(mm).padStart(2, '0') : mm) + ':' + String(ss).padStart(2, '0');
  }

  function show(r) {
    st.cur = r;
    const d = $('detail');
    d.dataset.id = r.id;
    d.dataset.state = r.state;
    $('pos').textContent = (st.pos + 1).toLocaleString() + ' / ' + st.total.toLocaleString();
    const s = $('state');
    s.textContent = r.state === 'changed' ? 'changed since review' : r.state;
    s.className = 'state ' + r.state;
    const notes = $('notes');
    notes.replaceChildren();
    for (const f of r.flags || []) notes.append(el('span', 'flag', f));
    if (r.dup_of) notes.append(el('span', 'flag', 'like #' + (r.dup_of.i + 1) + ': ' + r.dup_of.snippet));
    for (const is of r.issues || []) notes.append(el('div', 'issue', is));
    if (r.state === 'changed') notes.append(el('div', 'note', 'This example changed since it was ' + r.decision.decision + 'ed: review it again.'));
    if (r.error) notes.append(el('div', 'issue', r.error));
    const ex = r.example || { messages: [], meta: {} };
    provenance(ex.meta, r.passage);
    const msgs = $('msgs');
    msgs.replaceChildren();
    const pair = ex.rejected && ex.rejected.length > 0;
    $('b-swap').hidden = !pair;
    const list = ex.messages || [];
    const upto = pair ? list.length - 1 : list.length;
    for (let k = 0; k < upto; k++) msgs.append(msgBox(list[k]));
    if (pair) {
      const g = el('div', 'pair');
      g.append(msgBox(list[list.length - 1], 'chosen-reply'), msgBox(ex.rejected[0], 'rejected-reply'));
      msgs.append(g);
    }
    if (r.original) {
      const det = el('details');
      det.append(el('summary', null, 'the reply before the edit'));
      const ol = r.original.messages || [];
      det.append(msgBox(ol[ol.length - 1] || { role: 'assistant', content: '' }));
      msgs.append(det);
    }
    const j = $('judge');
    j.replaceChildren();
    const sc = (ex.meta && ex.meta.scores) || {};
    const reason = ex.meta && ex.meta.extra && ex.meta.extra.judge_reason;
    if (Object.keys(sc).length || reason) {
      j.append(el('h3', null, 'Judge'));
      const t = el('table');
      for (const k of Object.keys(sc).sort()) {
        const tr = el('tr');
        tr.append(el('td', null, k), el('td', null, sc[k]));
        t.append(tr);
      }
      j.append(t);
      if (reason) j.append(el('p', 'reason', reason));
    }
    const extra = (ex.meta && ex.meta.extra) || {};
    if (extra.flaw) j.append(el('p', null, 'rejected reply’s flaw: ' + extra.flaw));
    $('passage').textContent = r.passage ? r.passage.text : '(no source passage: the example names no chunk of this workspace)';
    if (!document.body.dataset.ready) window.__firstPaintMs = performance.now();
    document.body.dataset.ready = '1';
  }

  // ---- decisions ----
  async function decide(kind, extra) {
    const r = st.cur;
    if (!r || !r.example) return;
    const prev = r.decision && r.state !== 'changed' ? r.decision : null;
    const body = Object.assign({ i: r.i, id: r.id, decision: kind }, extra || {});
    try {
      const res = await send(body);
      st.undo.push({ pos: st.pos, i: r.i, id: r.id, prev: prev });
      toast(kind === 'edit' ? 'edited' : kind + 'ed');
      return res;
    } catch (e) {
      toast(e.message, true);
    }
  }

  async function send(body) {
    const res = await api('/api/decide', {}, body);
    showCounts(res.counts);
    for (const rows of st.pages.values()) for (const row of rows) if (row.i === body.i) row.state = res.state;
    render();
    if (st.cur && st.cur.i === body.i) {
      const ex = await api('/api/example', { i: body.i });
      if (st.cur && st.cur.i === body.i) show(ex);
    }
    return res;
  }

  async function undo() {
    const u = st.undo.pop();
    if (!u) { toast('nothing to undo'); return; }
    const body = u.prev
      ? { i: u.i, id: u.id, decision: u.prev.decision, messages: u.prev.messages, rejected: u.prev.rejected }
      : { i: u.i, id: u.id, decision: 'unreviewed' };
    try {
      if (st.pos !== u.pos && u.pos < st.total) { st.pos = u.pos; scrollIntoList(u.pos); }
      await send(body);
      if (!st.cur || st.cur.i !== u.i) {
        const ex = await api('/api/example', { i: u.i });
        show(ex);
      }
      render();
      toast('undone');
    } catch (e) {
      st.undo.push(u);
      toast(e.message, true);
    }
  }

  function lastAssistant(msgs) {
    for (let k = msgs.length - 1; k >= 0; k--) if (msgs[k].role === 'assistant') return k;
    return -1;
  }

  function editing() { return !$('editor').hidden; }

  function openEditor() {
    const r = st.cur;
    if (!r || !r.example) return;
    const k = lastAssistant(r.example.messages || []);
    if (k < 0) { toast('this example has no assistant reply to edit', true); return; }
    $('edit-text').value = r.example.messages[k].content || '';
    $('editor').hidden = false;
    $('edit-text').focus();
  }

  function closeEditor() {
    $('editor').hidden = true;
    $('edit-text').blur();
  }

  async function saveEdit() {
    const r = st.cur;
    const msgs = (r.example.messages || []).map((m) => Object.assign({}, m));
    const k = lastAssistant(msgs);
    msgs[k].content = $('edit-text').value;
    closeEditor();
    await decide('edit', { messages: msgs, rejected: r.example.rejected });
  }

  function swap() {
    const r = st.cur;
    const ex = r && r.example;
    if (!ex || !ex.rejected || !ex.rejected.length) return;
    const msgs = ex.messages.slice(0, -1).concat([ex.rejected[0]]);
    decide('edit', { messages: msgs, rejected: [ex.messages[ex.messages.length - 1]] });
  }

  // ---- filters ----
  let filterTimer = 0;
  function readFilters() {
    st.filters = {
      q: $('q').value.trim(), source: $('f-source').value, type: $('f-type').value, kind: $('f-kind').value,
      decision: $('f-decision').value, min: $('f-min').value, max: $('f-max').value,
    };
    resetList();
  }
  function filtersLater() { clearTimeout(filterTimer); filterTimer = setTimeout(readFilters, 300); }

  // ---- keys ----
  function toggleHelp(on) { $('help').hidden = on === undefined ? !$('help').hidden : !on; }

  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t && t.id === 'edit-text') {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); saveEdit(); }
      else if (e.key === 'Escape') { e.preventDefault(); closeEditor(); }
      return;
    }
    if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) {
      if (e.key === 'Escape' || (e.key === 'Enter' && t.tagName === 'INPUT')) {
        if (e.key === 'Enter') { clearTimeout(filterTimer); readFilters(); }
        t.blur();
        e.preventDefault();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      j: () => go(st.pos + 1), ArrowDown: () => go(st.pos + 1),
      k: () => go(st.pos - 1), ArrowUp: () => go(st.pos - 1),
      a: () => decide('accept'), r: () => decide('reject'), e: openEditor, s: swap, u: undo,
      '/': () => { $('q').focus(); $('q').select(); },
      '?': () => toggleHelp(), Escape: () => toggleHelp(false),
    };
    const f = keys[e.key];
    if (f) { e.preventDefault(); f(); }
  });

  // ---- mouse ----
  $('b-prev').addEventListener('click', () => go(st.pos - 1));
  $('b-next').addEventListener('click', () => go(st.pos + 1));
  $('b-accept').addEventListener('click', () => decide('accept'));
  $('b-reject').addEventListener('click', () => decide('reject'));
  $('b-edit').addEventListener('click', openEditor);
  $('b-swap').addEventListener('click', swap);
  $('b-undo').addEventListener('click', undo);
  $('b-save').addEventListener('click', saveEdit);
  $('b-cancel').addEventListener('click', closeEditor);
  $('help-btn').addEventListener('click', () => toggleHelp());
  $('help').addEventListener('click', () => toggleHelp(false));
  $('list').addEventListener('scroll', () => requestAnimationFrame(render));
  window.addEventListener('resize', render);
  $('q').addEventListener('input', filtersLater);
  for (const id of ['f-source', 'f-type', 'f-kind', 'f-decision']) $(id).addEventListener('change', readFilters);
  for (const id of ['f-min', 'f-max']) $(id).addEventListener('input', filtersLater);
  // Buttons keep no focus, so the keys go on working after a click.
  for (const b of document.querySelectorAll('button')) b.addEventListener('mouseup', () => b.blur());

  // ---- start ----
  st.total = -1;
  refreshTotal().catch((e) => toast(e.message, true));
  refreshState().catch((e) => toast(e.message, true));
  // Other tabs decide too, and the index grows while the file is read.
  (function poll() {
    setTimeout(() => { refreshState().catch(() => {}).finally(poll); }, st.indexed ? 4000 : 700);
  })();
})();
