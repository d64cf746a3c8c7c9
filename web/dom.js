// Building the DOM without HTML strings: every text, above all what users typed (names,
// landmarks, comments), goes in as a text node, so markup in a record shows as characters.

// A new element tag with props (class, dataset, on<event> listeners, properties or attributes)
// and children (nodes, or strings that become text nodes; null/false/undefined are skipped).
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

// Appends children (see el) to parent.
export function append(parent, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    parent.append(c instanceof Node ? c : String(c));
  }
  return parent;
}

// Replaces everything inside parent by children.
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

// A two-column table of [label, value] rows; a value may be a node or text.
export function kvTable(rows, cls) {
  return el('table', { class: 'kv ' + (cls || '') },
    el('tbody', null, rows.map(([k, v, key]) => el('tr', key ? { dataset: { field: key } } : null,
      el('th', { scope: 'row' }, k), el('td', null, v)))));
}

// A table with a header row and body rows (each an array of cells: nodes or text).
export function grid(headers, rows, cls) {
  return el('table', { class: 'grid ' + (cls || '') },
    el('thead', null, el('tr', null, headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', null, rows.map((r) => (r instanceof Node ? r : el('tr', null, r.map((c) => el('td', null, c)))))));
}
