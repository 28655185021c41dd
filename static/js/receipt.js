/* The receipt page's "Print" button: shown only where the browser can print from script. */
(() => {
  "use strict";

  const button = document.querySelector("[data-print]");
  if (!button || typeof window.print !== "function") return;
  button.hidden = false;
  button.addEventListener("click", () => window.print());
})();
