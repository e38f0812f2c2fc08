// The README's example, live: one show's comments and claims, kept current by
// showfeed-client. Open /client/example.html#token=<JWT>&show=<show id>.

import { createClient } from "/client/showfeed-client.js";

const { token, show } = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
const $ = (id) => document.getElementById(id);

/** A list item holding `text` as text (comments are written by strangers: never markup). */
function li(text, dataset) {
  const el = document.createElement("li");
  el.textContent = text;
  Object.assign(el.dataset, dataset);
  return el;
}

function render(store) {
  $("title").textContent = store.show.title;
  const c = store.counters();
  $("counters").textContent = `${c.comments} comments, ${c.claims} claims, ${c.sold} sold`;
  $("comments").replaceChildren(...store.comments.slice(0, 50).map((m) => li(`${m.author_name}: ${m.text}`, { id: m.id })));
  $("claims").replaceChildren(
    ...[...store.claims.values()].map((k) => li(`#${k.item_number} ${k.buyer_name} (${k.status})`, { claim: k.id, status: k.status })),
  );
}

if (!token || !show) {
  $("help").hidden = false;
  $("status").textContent = "no token or show in the address";
} else {
  const client = createClient({ auth: { token } });
  const sub = client.subscribe(show, { onInitial: (_, store) => render(store), onChange: () => render(sub.store(show)) });
  client.onStatus((s) => {
    $("status").textContent = s.state + (s.reason ? ` (${s.reason})` : "");
    $("status").dataset.state = s.state;
  });
}
