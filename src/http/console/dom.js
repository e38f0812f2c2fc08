// Small DOM helpers. Everything that comes from the server is put into the page as text
// (text nodes, textContent, attribute values), never parsed as HTML: comment text and
// buyer names are written by strangers.

/**
 * Creates an element. `props`: `class`, `text`, `dataset`, `on<event>` listeners, and
 * plain attributes (set with setAttribute, so never parsed as markup). Children are
 * nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The element with this id; throws early when the page and the script disagree. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

/** A server timestamp (RFC 3339, UTC) as the operator's local time of day. */
export function localTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFormat.format(d);
}

/** A server timestamp as the operator's local date and time. */
export function localDateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : dateTimeFormat.format(d);
}

/** A `<time>` element showing local time, with the exact instant in `datetime`. */
export function timeEl(iso, long = false) {
  return h("time", { datetime: iso, title: iso }, long ? localDateTime(iso) : localTime(iso));
}

const count = new Intl.NumberFormat();

export function formatCount(n) {
  return count.format(n);
}
