/* A page that comes back with form errors: the first field marked invalid takes the focus,
 * centred on screen, so that on a phone the error beside it is where the eye is (not below
 * the fold). Errors that belong to no field are alerts at the top of their form, already in
 * view. The cart page's in-place answers do the same in cart.js. No inline script: the site's
 * Content-Security-Policy forbids it.
 */
(() => {
  "use strict";

  const field = document.querySelector("main [aria-invalid='true']");
  if (!field) return;
  const box = field.closest(".field") || field;
  box.scrollIntoView({ block: "center" });
  field.focus({ preventScroll: true });
})();
