// The console's copy buttons: a button with data-copy="ID" copies the text of element ID. Without script (or
// without a clipboard) the button stays hidden and the text can still be selected by hand.
"use strict";

(function () {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.id + "-status");
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        if (status) status.textContent = "Copied.";
      } catch (error) {
        if (status) status.textContent = "Could not copy: select the key and copy it by hand.";
      }
    });
  }
})();
