// The operator console: getting a token, the show list, and one show's live console
// (comment feed, claims board, counters, items editor). The connection lives in feed.js,
// the show's data in state.js; this file turns them into the page.
//
// Rule for all rendering: server data goes in as text (dom.js `h`, textContent), never
// as HTML. The page runs under a CSP with no inline script or style.

import { byId, formatCount, h, price, timeEl } from "./dom.js";
import { decodeToken, expiredMessage, ShowFeed, warn } from "./feed.js";
import { ShowState } from "./state.js";

/** Comments rendered at most; older ones stay in memory (state.js) or the database. */
const RENDER_CAP = 500;
const TOKEN_KEY = "showfeed.token";

const app = {
  token: null,
  claims: null,
  /** The open show's feed, state and DOM indexes (null on the show list). */
  feed: null,
  state: null,
  showId: null,
  /** Rendered comment elements by comment id. */
  commentEls: new Map(),
  /** Claims-board groups by item number. */
  groupEls: new Map(),
  /** Items-table rows by item number. */
  itemRows: new Map(),
  statusTimer: null,
  authChannel: null,
};

// ---- token ---------------------------------------------------------------------------

/** Takes `#token=` from the address (then removes it), else this tab's stored token. */
function takeTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    params.delete("token");
    const rest = params.toString();
    // replaceState: the token leaves the address bar and the history, and no reload.
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function setToken(token, { share = false } = {}) {
  sessionStorage.setItem(TOKEN_KEY, token);
  app.token = token;
  app.claims = decodeToken(token);
  if (share) app.authChannel?.postMessage({ t: "token", token });
}

/**
 * Tabs of this origin share the token on request: a tab opened without one (a new tab,
 * a bookmark) asks the others before showing the sign-in form. Same origin only.
 */
function startAuthChannel() {
  if (typeof BroadcastChannel !== "function") return;
  app.authChannel = new BroadcastChannel("showfeed-auth");
  app.authChannel.onmessage = (e) => {
    const m = e.data || {};
    if (m.t === "ask" && app.token && tokenUsable(app.token)) {
      app.authChannel.postMessage({ t: "token", token: app.token });
    } else if (m.t === "token" && typeof m.token === "string" && m.token !== app.token) {
      // Adopt another tab's token only when ours cannot work (none, expired, rejected).
      if (!app.token || !tokenUsable(app.token) || app.tokenRejected) {
        setToken(m.token);
        app.tokenRejected = false;
        route();
      }
    }
  };
}

function askOtherTabsForToken() {
  return new Promise((resolve) => {
    if (!app.authChannel) return resolve(null);
    const timer = setTimeout(() => {
      app.authChannel.removeEventListener("message", onMessage);
      resolve(null);
    }, 300);
    function onMessage(e) {
      if (e.data?.t === "token" && typeof e.data.token === "string") {
        clearTimeout(timer);
        app.authChannel.removeEventListener("message", onMessage);
        resolve(e.data.token);
      }
    }
    app.authChannel.addEventListener("message", onMessage);
    app.authChannel.postMessage({ t: "ask" });
  });
}

function tokenUsable(token) {
  const claims = decodeToken(token);
  return !!claims && (!claims.exp || claims.exp * 1000 > Date.now());
}

function canOperate() {
  return app.claims?.role === "operator" || app.claims?.role === "admin";
}

// ---- API -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${app.token}` }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    const err = json?.error || {};
    throw new ApiError(r.status, err.code || "http", err.message || `HTTP ${r.status}`);
  }
  return json;
}

/** Reports a failed action: the page says it plainly, the console keeps the context. */
function reportError(what, e) {
  warn(`${what} failed`, { status: e.status, code: e.code, message: e.message });
  if (e.status === 401) {
    app.tokenRejected = true;
    const message = tokenUsable(app.token) ? `The server rejected this token: ${e.message}` : expiredMessage(app.token);
    showLogin(message);
    return;
  }
  const hint = e.status === 403 ? " Your token's role may not do that." : "";
  showAlert(`${what} failed: ${e.message}.${hint}`);
}

// ---- page frame ----------------------------------------------------------------------

function showAlert(text) {
  byId("alert-text").textContent = text;
  byId("alert").hidden = false;
}

function hideAlert() {
  byId("alert").hidden = true;
}

function showLogin(message) {
  byId("login").hidden = false;
  byId("login-msg").textContent = message || "";
  byId("login-msg").hidden = !message;
  byId("who").textContent = "";
  byId("signout").hidden = !app.token;
}

function showWho() {
  const c = app.claims;
  byId("who").textContent = c ? `${c.sub} · ${c.role}` : "";
  byId("signout").hidden = !app.token;
  for (const el of document.querySelectorAll("[data-operator]")) el.hidden = !canOperate();
}

/** Shows one of the main views; `null` shows none (sign-in only). */
function showView(id) {
  for (const v of ["shows", "console"]) byId(v).hidden = v !== id;
}

function setConnection(status) {
  const el = byId("conn");
  const previous = el.dataset.state;
  el.dataset.state = status.state;
  el.dataset.shared = status.shared ? "true" : "false";
  app.connStatus = status;
  renderConnectionText();
  clearInterval(app.statusTimer);
  if (status.nextAt) app.statusTimer = setInterval(renderConnectionText, 1000);
  if (previous !== status.state && previous !== "idle") {
    announce(`Connection ${connectionLabel(status, false)}`);
  }
  if (status.state === "error") {
    byId("console").classList.add("stale");
    if (status.kind === "expired" || status.kind === "unauthorized") {
      app.tokenRejected = true;
      showLogin(status.reason);
    } else {
      showAlert(status.reason);
    }
  } else {
    byId("console").classList.remove("stale");
  }
}

function connectionLabel(s, withCountdown = true) {
  const next = withCountdown && s.nextAt ? `, next try in ${Math.max(0, Math.ceil((s.nextAt - Date.now()) / 1000))} s` : "";
  const via = s.shared ? " (via another tab)" : "";
  switch (s.state) {
    case "connecting":
      return "connecting…";
    case "live":
      return `live${via}`;
    case "reconnecting":
      return `reconnecting (attempt ${s.attempt}${next})${via}`;
    case "polling":
      return `polling fallback${s.nextAt ? ` (live stream retry in ${Math.max(0, Math.ceil((s.nextAt - Date.now()) / 1000))} s)` : ""}${via}`;
    case "error":
      return `error: ${s.reason}`;
    default:
      return "not connected";
  }
}

function renderConnectionText() {
  const s = app.connStatus;
  if (!s) return;
  const text = connectionLabel(s);
  byId("conn-text").textContent = text.charAt(0).toUpperCase() + text.slice(1);
  byId("conn").title = s.reason && s.state !== "error" ? `Last failure: ${s.reason}` : "";
}

// ---- screen-reader announcements -------------------------------------------------------

const pendingAnnouncements = [];
let announceTimer = null;

/**
 * Queues a message for the aria-live region. Messages are batched once a second, at most
 * three read out then "and N more": a claim storm must not bury a screen-reader user.
 */
function announce(message) {
  pendingAnnouncements.push(message);
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    announceTimer = null;
    const shown = pendingAnnouncements.splice(0, 3);
    const more = pendingAnnouncements.length;
    pendingAnnouncements.length = 0;
    const text = shown.join(". ") + (more ? `. And ${more} more.` : ".");
    const region = byId("announcer");
    region.replaceChildren(h("p", {}, text));
  }, 700);
}

// ---- routing -------------------------------------------------------------------------

async function route() {
  closeShow();
  hideAlert();
  byId("login").hidden = true;
  // A link with `#token=` followed inside an open tab (a hash change, no reload).
  const fromUrl = takeTokenFromUrl();
  if (fromUrl && fromUrl !== app.token) {
    app.tokenRejected = false;
    setToken(fromUrl);
  }
  if (!app.token) {
    const shared = await askOtherTabsForToken();
    if (shared) setToken(shared);
  }
  if (!app.token) {
    showView(null);
    setConnection({ state: "idle" });
    showLogin("This console needs a token.");
    return;
  }
  if (!app.claims) {
    showView(null);
    showLogin("That is not a valid token (it should be a JWT: three dot-separated parts).");
    return;
  }
  if (!tokenUsable(app.token)) {
    showView(null);
    showLogin(expiredMessage(app.token));
    return;
  }
  showWho();
  const showId = new URLSearchParams(location.hash.slice(1)).get("show");
  if (showId) openShow(showId);
  else openShowList();
}

// ---- show list -----------------------------------------------------------------------

async function openShowList() {
  showView("shows");
  document.title = "Shows · showfeed";
  byId("conn").dataset.state = "idle";
  byId("conn-text").textContent = "Not connected to a show";
  app.connStatus = null;
  try {
    const { shows } = await api("GET", "/api/shows");
    renderShowList(shows);
  } catch (e) {
    reportError("Loading shows", e);
  }
}

function renderShowList(shows) {
  const list = byId("show-list");
  byId("shows-empty").hidden = shows.length > 0;
  list.replaceChildren(
    ...shows.map((s) =>
      h(
        "li",
        { class: "card show-row", dataset: { show: s.id } },
        h("a", { class: "show-link", href: `#show=${encodeURIComponent(s.id)}` }, s.title),
        h("span", { class: `badge status-${s.status}` }, s.status),
        h("span", { class: "muted" }, "created ", timeEl(s.created_at, true)),
        canOperate() ? statusButtons(s, () => openShowList()) : null,
      ),
    ),
  );
}

/** Go live / End buttons for a show; `after` runs when a change succeeded. */
function statusButtons(show, after) {
  const set = (status) => async (e) => {
    e.target.disabled = true;
    try {
      await api("PATCH", `/api/shows/${encodeURIComponent(show.id)}`, { status });
      after?.();
    } catch (err) {
      reportError(status === "live" ? "Going live" : "Ending the show", err);
    } finally {
      e.target.disabled = false;
    }
  };
  return h(
    "span",
    { class: "row-actions" },
    show.status !== "live" ? h("button", { type: "button", onclick: set("live"), "aria-label": `Go live: ${show.title}` }, "Go live") : null,
    show.status === "live" ? h("button", { type: "button", class: "danger", onclick: set("ended"), "aria-label": `End show: ${show.title}` }, "End") : null,
  );
}

async function createShow(e) {
  e.preventDefault();
  const title = byId("new-title").value.trim();
  if (!title) return;
  const live = byId("new-live").checked;
  try {
    const show = await api("POST", "/api/shows", { title, status: live ? "live" : "scheduled" });
    byId("new-title").value = "";
    location.hash = `show=${encodeURIComponent(show.id)}`;
  } catch (err) {
    reportError("Creating the show", err);
  }
}

// ---- one show ------------------------------------------------------------------------

function openShow(showId) {
  showView("console");
  app.showId = showId;
  app.state = new ShowState();
  resetShowDom();
  const forcePoll = new URLSearchParams(location.hash.slice(1)).get("transport") === "poll";
  app.feed = new ShowFeed({
    showId,
    token: app.token,
    state: app.state,
    forcePoll,
    onInitial: renderAll,
    onChange: renderChange,
    onStatus: setConnection,
  });
  setConnection({ state: "connecting" });
  app.feed.start();
}

function closeShow() {
  app.feed?.stop();
  app.feed = null;
  app.state = null;
  app.showId = null;
  clearInterval(app.statusTimer);
}

function resetShowDom() {
  byId("show-title").textContent = "Loading…";
  byId("show-status").textContent = "";
  byId("show-status").hidden = true;
  byId("go-live").hidden = true;
  byId("end-show").hidden = true;
  byId("feed").replaceChildren();
  byId("board").replaceChildren();
  byId("items").replaceChildren();
  app.commentEls.clear();
  app.groupEls.clear();
  app.itemRows.clear();
  renderCounters();
}

/** A fresh snapshot: everything is rebuilt from the state. */
function renderAll() {
  const s = app.state;
  renderShowHead();
  const feed = byId("feed");
  app.commentEls.clear();
  feed.replaceChildren(...s.comments.slice(0, RENDER_CAP).map(commentEl));
  app.groupEls.clear();
  byId("board").replaceChildren(...s.claimedItemNumbers().map((n) => groupEl(n)));
  app.itemRows.clear();
  byId("items").replaceChildren(...[...s.items.values()].sort((a, b) => a.item_number - b.item_number).map(itemRow));
  renderCounters();
  renderEmptyHints();
}

/** One applied change: only what it touches is redone. */
function renderChange(effect, change, live) {
  switch (effect.entity) {
    case "comment":
      renderCommentChange(effect);
      break;
    case "claim":
      renderItemGroup(effect.row.item_number);
      if (effect.previous && effect.previous.item_number !== effect.row.item_number) renderItemGroup(effect.previous.item_number);
      markClaimComment(effect.row);
      renderItemRow(effect.row.item_number);
      if (live) announceClaim(effect);
      break;
    case "item":
      renderItemRow(effect.row.item_number);
      if (app.groupEls.has(effect.row.item_number)) renderItemGroup(effect.row.item_number);
      break;
    case "show":
      renderShowHead();
      break;
  }
  renderCounters();
  renderEmptyHints();
}

function renderShowHead() {
  const show = app.state.show;
  if (!show) return;
  byId("show-title").textContent = show.title;
  document.title = `${show.title} · showfeed`;
  const badge = byId("show-status");
  badge.textContent = show.status;
  badge.className = `badge status-${show.status}`;
  badge.hidden = false;
  byId("go-live").hidden = show.status === "live";
  byId("end-show").hidden = show.status !== "live";
}

function renderCounters() {
  const c = app.state ? app.state.counters() : { comments: 0, commentsExact: true, claims: 0, sold: 0, waitlisted: 0, paid: 0 };
  const comments = byId("count-comments");
  comments.textContent = formatCount(c.comments) + (c.commentsExact ? "" : "+");
  comments.title = c.commentsExact ? "" : "At least: the snapshot holds only the newest comments.";
  byId("count-claims").textContent = formatCount(c.claims);
  byId("count-sold").textContent = formatCount(c.sold);
  byId("count-waitlisted").textContent = formatCount(c.waitlisted);
  byId("count-paid").textContent = formatCount(c.paid);
}

function renderEmptyHints() {
  const s = app.state;
  byId("feed-empty").hidden = s.comments.length > 0;
  byId("board-empty").hidden = s.claims.size > 0;
  byId("items-empty").hidden = s.items.size > 0;
  const cap = byId("feed-cap");
  cap.hidden = s.comments.length <= RENDER_CAP;
  cap.textContent = `Showing the newest ${RENDER_CAP} comments.`;
}

// ---- comment feed --------------------------------------------------------------------

function commentEl(c) {
  const claim = app.state.claimOfComment(c.id);
  const li = h(
    "li",
    { class: "comment", dataset: { id: c.id } },
    h("div", { class: "c-meta" }, h("span", { class: "c-author" }, c.author_name || c.author_id), timeEl(c.created_at)),
    h("p", { class: "c-text" }, c.text),
  );
  app.commentEls.set(c.id, li);
  if (claim) decorateClaimComment(li, claim);
  return li;
}

function decorateClaimComment(li, claim) {
  li.classList.add("is-claim");
  li.querySelector(".c-tag")?.remove();
  const label = claim.status === "waitlisted" ? `#${claim.item_number} waitlist ${claim.waitlist_position}` : `#${claim.item_number} ${claim.status}`;
  li.querySelector(".c-meta").append(h("span", { class: `c-tag tag-${claim.status}` }, label));
}

function markClaimComment(claim) {
  if (!claim.comment_id) return;
  const li = app.commentEls.get(claim.comment_id);
  if (li) decorateClaimComment(li, claim);
}

/**
 * Keeps the list equal to the newest RENDER_CAP comments of the state: the i-th `<li>` is
 * `state.comments[i]`. A new comment usually goes on top and the oldest rendered one goes.
 */
function renderCommentChange({ row, removedAt, insertedAt }) {
  const feed = byId("feed");
  const comments = app.state.comments;
  if (removedAt >= 0 && removedAt < RENDER_CAP) {
    app.commentEls.get(row.id)?.remove();
    app.commentEls.delete(row.id);
  }
  if (insertedAt >= 0 && insertedAt < RENDER_CAP) {
    const el = commentEl(row);
    const before = feed.children[insertedAt] || null;
    feed.insertBefore(el, before);
    if (insertedAt === 0) {
      el.classList.add("fresh");
      setTimeout(() => el.classList.remove("fresh"), 1500);
    }
  }
  // Trim or refill the tail so the list holds exactly min(RENDER_CAP, kept) comments.
  while (feed.children.length > Math.min(RENDER_CAP, comments.length)) {
    const last = feed.lastElementChild;
    app.commentEls.delete(last.dataset.id);
    last.remove();
  }
  while (feed.children.length < Math.min(RENDER_CAP, comments.length)) {
    feed.append(commentEl(comments[feed.children.length]));
  }
}

// ---- claims board --------------------------------------------------------------------

function groupEl(number) {
  const s = app.state;
  const { holders, waitlist, released } = s.claimsOfItem(number);
  const item = s.items.get(number);
  const quantity = s.quantityOf(number);
  const sold = holders.length;
  const section = h(
    "section",
    { class: "group", dataset: { item: number }, "aria-label": `Item ${number}` },
    h(
      "h3",
      {},
      h("span", { class: "g-num" }, `#${number}`),
      " ",
      h("span", { class: "g-title" }, item?.title || ""),
      h("span", { class: `g-count ${sold >= quantity ? "full" : ""}` }, `${sold} of ${quantity} sold`),
    ),
  );
  const list = h("ol", { class: "claims" });
  for (const c of holders) list.append(claimEl(c));
  for (const c of waitlist) list.append(claimEl(c));
  section.append(list);
  if (released.length) {
    section.append(
      h("p", { class: "released" }, "Released: ", ...released.flatMap((c, i) => [i ? ", " : "", h("span", { class: "buyer", dataset: { claim: c.id, status: c.status } }, c.buyer_name || c.buyer_id)])),
    );
  }
  app.groupEls.set(number, section);
  return section;
}

function claimEl(c) {
  const name = c.buyer_name || c.buyer_id;
  const status =
    c.status === "waitlisted" ? `waitlist ${c.waitlist_position}` : c.status === "paid" ? "paid" : "claimed";
  const actions = [];
  if (canOperate()) {
    if (c.status === "claimed") {
      actions.push(h("button", { type: "button", dataset: { action: "paid", claim: c.id }, "aria-label": `Mark ${name} paid for item ${c.item_number}` }, "Mark paid"));
    }
    if (c.status === "claimed" || c.status === "waitlisted") {
      actions.push(h("button", { type: "button", class: "quiet", dataset: { action: "released", claim: c.id }, "aria-label": `Release ${name}'s claim on item ${c.item_number}` }, "Release"));
    }
  }
  return h(
    "li",
    { class: `claim st-${c.status}`, dataset: { claim: c.id, status: c.status } },
    h("span", { class: "buyer" }, name),
    h("span", { class: `tag tag-${c.status}` }, status),
    timeEl(c.created_at),
    actions.length ? h("span", { class: "claim-actions" }, ...actions) : null,
  );
}

function renderItemGroup(number) {
  const board = byId("board");
  const old = app.groupEls.get(number);
  const { holders, waitlist, released } = app.state.claimsOfItem(number);
  if (!holders.length && !waitlist.length && !released.length) {
    old?.remove();
    app.groupEls.delete(number);
    return;
  }
  const fresh = groupEl(number);
  if (old) {
    // Keep keyboard focus on the same button across the re-render where it still exists.
    const focused = old.contains(document.activeElement) ? document.activeElement.dataset : null;
    old.replaceWith(fresh);
    if (focused?.claim) {
      const again = fresh.querySelector(`button[data-claim="${CSS.escape(focused.claim)}"][data-action="${CSS.escape(focused.action || "")}"]`) || fresh.querySelector("button");
      again?.focus();
    }
    return;
  }
  const after = [...app.groupEls.keys()].filter((n) => n > number).sort((a, b) => a - b)[0];
  board.insertBefore(fresh, after === undefined ? null : app.groupEls.get(after));
}

async function onBoardClick(e) {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const { action, claim } = button.dataset;
  button.disabled = true;
  try {
    // The change comes back through the feed to every open console, this one included.
    await api("PATCH", `/api/claims/${encodeURIComponent(claim)}`, { status: action });
  } catch (err) {
    button.disabled = false;
    reportError(action === "paid" ? "Marking paid" : "Releasing the claim", err);
  }
}

function announceClaim({ op, row, previous }) {
  const name = row.buyer_name || row.buyer_id;
  if (op === "insert") {
    announce(row.status === "waitlisted" ? `${name} waitlisted ${row.waitlist_position} for item ${row.item_number}` : `${name} claimed item ${row.item_number}`);
  } else if (op === "update" && previous?.status === "waitlisted" && row.status === "claimed") {
    announce(`${name} promoted to claimed on item ${row.item_number}`);
  }
}

// ---- items ---------------------------------------------------------------------------

function itemRow(item) {
  const { holders } = app.state.claimsOfItem(item.item_number);
  const tr = h(
    "tr",
    { dataset: { item: item.item_number } },
    h("td", {}, `#${item.item_number}`),
    h("td", { class: "i-title" }, item.title),
    h("td", { class: "num" }, price(item.price_cents)),
    h("td", { class: "num" }, String(item.quantity)),
    h("td", { class: "num" }, String(holders.length)),
    h("td", {}, canOperate() ? h("button", { type: "button", class: "quiet", dataset: { edit: item.item_number }, "aria-label": `Edit item ${item.item_number}` }, "Edit") : ""),
  );
  app.itemRows.set(item.item_number, tr);
  return tr;
}

function renderItemRow(number) {
  const item = app.state.items.get(number);
  const old = app.itemRows.get(number);
  if (!item) {
    old?.remove();
    app.itemRows.delete(number);
    return;
  }
  const fresh = itemRow(item);
  if (old) return old.replaceWith(fresh);
  const after = [...app.itemRows.keys()].filter((n) => n > number).sort((a, b) => a - b)[0];
  byId("items").insertBefore(fresh, after === undefined ? null : app.itemRows.get(after));
}

function fillItemForm(number) {
  const item = app.state?.items.get(number);
  byId("item-number").value = String(number);
  if (item) {
    byId("item-title").value = item.title;
    byId("item-price").value = (item.price_cents / 100).toFixed(2);
    byId("item-quantity").value = String(item.quantity);
  }
}

async function saveItem(e) {
  e.preventDefault();
  const number = Number(byId("item-number").value);
  const body = {
    title: byId("item-title").value.trim(),
    price_cents: Math.round(Number(byId("item-price").value) * 100),
    quantity: Number(byId("item-quantity").value),
  };
  try {
    await api("PUT", `/api/shows/${encodeURIComponent(app.showId)}/items/${number}`, body);
    byId("item-form").reset();
    byId("item-number").focus();
  } catch (err) {
    reportError(`Saving item ${number}`, err);
  }
}

// ---- wiring --------------------------------------------------------------------------

function wire() {
  byId("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = byId("login-token").value.trim();
    if (!token) return;
    byId("login-token").value = "";
    app.tokenRejected = false;
    setToken(token, { share: true });
    route();
  });
  byId("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    app.token = null;
    app.claims = null;
    closeShow();
    showView(null);
    setConnection({ state: "idle" });
    showLogin("Signed out. This tab forgot its token.");
  });
  byId("alert-close").addEventListener("click", hideAlert);
  byId("shows-refresh").addEventListener("click", openShowList);
  byId("create-show").addEventListener("submit", createShow);
  byId("board").addEventListener("click", onBoardClick);
  byId("item-form").addEventListener("submit", saveItem);
  byId("item-number").addEventListener("change", (e) => fillItemForm(Number(e.target.value)));
  byId("items").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-edit]");
    if (!button) return;
    fillItemForm(Number(button.dataset.edit));
    byId("item-title").focus();
  });
  const setShow = (status) => async (e) => {
    e.target.disabled = true;
    try {
      await api("PATCH", `/api/shows/${encodeURIComponent(app.showId)}`, { status });
    } catch (err) {
      reportError(status === "live" ? "Going live" : "Ending the show", err);
    } finally {
      e.target.disabled = false;
    }
  };
  byId("go-live").addEventListener("click", setShow("live"));
  byId("end-show").addEventListener("click", setShow("ended"));
  window.addEventListener("hashchange", route);
  // A CSP violation means the page itself broke its own rules: say so where a developer looks.
  document.addEventListener("securitypolicyviolation", (e) => {
    warn("content security policy violation", { directive: e.violatedDirective, blocked: e.blockedURI });
    document.documentElement.dataset.cspViolations = String(Number(document.documentElement.dataset.cspViolations || 0) + 1);
  });
}

function main() {
  startAuthChannel();
  wire();
  route();
}

main();
