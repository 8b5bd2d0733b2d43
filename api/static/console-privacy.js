// The erasure form's danger zone: the button stays disabled until the id is typed again exactly, as on GitHub.
// Without script the server makes the same check and says what is wrong.
"use strict";

(function () {
  const id = document.getElementById("erase-customer");
  const confirm = document.getElementById("erase-confirm");
  const button = document.getElementById("erase-submit");
  if (!id || !confirm || !button) return;
  const check = () => {
    const typed = id.value.trim();
    button.disabled = typed === "" || confirm.value.trim() !== typed;
  };
  id.addEventListener("input", check);
  confirm.addEventListener("input", check);
  check();
})();
