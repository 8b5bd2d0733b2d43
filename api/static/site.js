/* Public pages: start the chat widget for an anonymous visitor, configured by the page's #kw-config element. */
(function () {
  "use strict";
  var config = document.getElementById("kw-config");
  if (!config || !window.KeepwellWidget) return;
  window.KeepwellWidget.init({
    apiBase: "",
    title: config.dataset.title,
    subtitle: "We usually answer right away",
    greeting: config.dataset.greeting,
  });
})();
