// The transcript page, live: polls the conversation's new messages and appends them (the customer's answers during
// a handoff show up without reload). Text only, never innerHTML. When the handoff changes under the CSM (closed,
// released, taken over elsewhere) it says so rather than reloading, so a reply being typed is not lost.
"use strict";

(function () {
  const POLL_MS = 1500;
  const list = document.getElementById("bubbles");
  const note = document.getElementById("live-note");
  if (!list || !list.dataset.feed) return;
  let after = Number(list.dataset.after) || 0;
  const handoffStatus = list.dataset.handoff || "";
  const customer = list.dataset.customer || "Customer";
  const ROLE = { customer: "user", bot: "bot", agent: "agent", system: "system" };
  const LABEL = { bot: "Assistant", agent: "Agent", system: "Keepwell" };

  function bubble(message) {
    const item = document.createElement("li");
    item.className = "bubble bubble--" + (ROLE[message.role] || "system");
    item.id = "message-" + message.id;
    const meta = document.createElement("p");
    meta.className = "bubble__meta";
    const who = document.createElement("span");
    if (message.role === "customer") who.textContent = customer;
    else if (message.role === "agent" && message.author) who.textContent = message.author + " (person)";
    else if (message.kind === "csat") who.textContent = "Keepwell · CSAT question";
    else who.textContent = LABEL[message.role] || message.role;
    meta.append(who, " · " + new Date(message.created_at).toLocaleString());
    const text = document.createElement("p");
    text.className = "bubble__text";
    text.textContent = message.text;
    item.append(meta, text);
    return item;
  }

  async function poll() {
    try {
      const url = list.dataset.feed + "?after=" + after;
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const body = await response.json();
      for (const message of body.data || []) {
        if (document.getElementById("message-" + message.id)) continue;
        list.appendChild(bubble(message));
        after = Math.max(after, message.id);
      }
      const now = body.handoff ? body.handoff.status : "";
      if (note && now !== handoffStatus) {
        note.textContent = "The handoff changed (" + (now || "none") + "). Reload the page to see it.";
        note.hidden = false;
      }
    } catch (error) {
      /* offline a moment: the next poll tries again */
    }
  }

  setInterval(poll, POLL_MS);
})();
