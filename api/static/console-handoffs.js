// The handoff queue, on every console page: polls a small JSON endpoint and shows how many handoffs are open, and
// a notice when a new one lands in your queue or the shared one; on the handoffs page it also refreshes the table
// (longest wait first, the same columns and Release button the page was rendered with, minus the transcripts).
// Polling, not a stream: a few hundred bytes every few seconds per open console tab, over the same session cookie,
// and nothing held open on the gateway (its streams are for customers' widgets). Text only: never innerHTML.
"use strict";

(function () {
  const POLL_MS = 3000;
  const count = document.getElementById("handoff-count");
  const alert = document.getElementById("handoff-alert");
  const table = document.getElementById("open-queue");
  const empty = document.getElementById("open-empty");
  let known = null; // ids seen at the previous poll; null until the first one

  function cell(row, content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content;
    row.appendChild(td);
  }

  function link(url, text) {
    const a = document.createElement("a");
    a.href = url;
    a.textContent = text;
    return a;
  }

  function releaseForm(url) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = url;
    const token = document.querySelector('input[name="csrf"]');
    for (const [name, value] of [["csrf", token ? token.value : ""], ["next", "/console/handoffs"]]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "btn btn--small";
    button.textContent = "Release";
    form.appendChild(button);
    return form;
  }

  function refreshTable(items) {
    table.textContent = "";
    for (const item of items) {
      const row = document.createElement("tr");
      row.dataset.queue = item.queue;
      cell(row, new Date(item.created_at).toLocaleString());
      cell(row, item.waiting);
      cell(row, item.customer);
      const reason = document.createElement("span");
      const kind = document.createElement("strong");
      kind.textContent = item.kind_label;
      reason.append(kind, ": " + item.reason);
      cell(row, reason);
      cell(row, link(item.url, item.conversation_id.slice(0, 10) + "…"));
      cell(row, item.queue === "shared" ? "Shared" : item.queue === "mine" ? "Yours" : item.assigned_to || "");
      cell(row, releaseForm(item.release_url));
      table.appendChild(row);
    }
    table.dataset.ids = items.map((item) => item.id).join(",");
    if (empty) empty.hidden = items.length > 0;
  }

  function announce(item) {
    alert.textContent = "";
    alert.append("New handoff: " + item.customer + " (" + item.kind_label + "). ");
    alert.appendChild(link(item.url, "Open the conversation"));
    alert.hidden = false;
  }

  async function poll() {
    try {
      const response = await fetch("/console/handoffs/queue.json", { headers: { Accept: "application/json" } });
      if (!response.ok) return; // signed out or the gateway busy: the next poll tries again
      const body = await response.json();
      const items = Array.isArray(body.data) ? body.data : [];
      if (count) {
        count.textContent = String(items.length);
        count.hidden = items.length === 0;
      }
      if (known !== null && alert) {
        const fresh = items.filter((item) => !known.has(item.id) && item.queue !== "others");
        if (fresh.length) announce(fresh[fresh.length - 1]); // the newest: the queue lists the longest wait first
      }
      if (table && table.dataset.ids !== items.map((item) => item.id).join(",")) refreshTable(items);
      else if (table) items.forEach((item, i) => { // same queue: only the waiting times move on
        const waitingCell = table.rows[i] && table.rows[i].cells[1];
        if (waitingCell) waitingCell.textContent = item.waiting;
      });
      known = new Set(items.map((item) => item.id));
    } catch (error) {
      /* offline a moment: the next poll tries again */
    }
  }

  poll();
  setInterval(poll, POLL_MS);
})();
