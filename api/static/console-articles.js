// The knowledge-base pages: a live preview of the article body (rendered and sanitised by the server, the same
// renderer as the help centre), a confirmation before retiring, and the reindex progress while it runs.
// Without script the form still saves (and the saved page shows the preview); the reindex result shows on reload.
"use strict";

(function () {
  const form = document.getElementById("article-form");
  const body = document.getElementById("article-body");
  const preview = document.getElementById("article-preview");
  if (form && body && preview) {
    let timer = null;
    let sent = 0;
    const refresh = async () => {
      const mine = ++sent;
      const data = new FormData();
      data.append("csrf", form.elements.csrf.value);
      data.append("body", body.value);
      try {
        const response = await fetch("/console/articles/preview", { method: "POST", body: data, credentials: "same-origin" });
        if (!response.ok || mine !== sent) return;
        const payload = await response.json();
        preview.innerHTML = payload.html; // sanitised server-side by nh3, as on the help page
        preview.dataset.rendered = String(mine);
      } catch (error) {
        // The preview is a convenience: a failed request leaves the last one in place.
      }
    };
    body.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  }

  for (const confirmed of document.querySelectorAll("form[data-confirm]")) {
    confirmed.addEventListener("submit", (event) => {
      if (!window.confirm(confirmed.dataset.confirm)) event.preventDefault();
    });
  }

  const status = document.getElementById("reindex-status");
  const button = document.getElementById("reindex-button");
  if (status && status.dataset.state === "running") {
    const poll = async () => {
      let state;
      try {
        const response = await fetch("/console/articles/reindex/status", { credentials: "same-origin" });
        state = await response.json();
      } catch (error) {
        setTimeout(poll, 2000);
        return;
      }
      status.dataset.state = state.state;
      if (state.state === "running") {
        status.textContent = `Reindexing: ${state.encoded} of ${state.to_encode} passages encoded…`;
        setTimeout(poll, 500);
      } else if (state.state === "done") {
        const r = state.report;
        status.textContent = r.rebuilt
          ? `Reindexed: ${r.articles} articles, ${r.encoded} passages encoded, ${r.reused} reused, generation ${r.generation}, in ${r.seconds.toFixed(1)} s.`
          : `The index was already up to date (${r.articles} articles).`;
        if (button) button.disabled = false;
      } else {
        status.textContent = `Reindex failed: ${state.error}`;
        if (button) button.disabled = false;
      }
    };
    poll();
  }
})();
