/* The cart page, live: edits happen in place, and changes made elsewhere show up by themselves.
 *
 * The page works without this file: every edit is a POST form that redirects back to the cart.
 * With it:
 *  - forms marked data-cart-form are sent with fetch and the "X-Requested-With: fetch" header;
 *    the server answers with the re-rendered cart block, which replaces the page's. Money is
 *    only ever rendered by the server. A refused edit typed into a field (a wrong coupon code)
 *    comes back with the error beside the field and the typed value in it: the field gets the
 *    focus, scrolled into view.
 *  - an EventSource on data-events-url hears the cart's stamp (version, scan count, pairing
 *    count); when it differs from the one shown, the block is fetched again from
 *    data-fragment-url. The block holds everything the page says about the cart's state: lines
 *    and totals, the device scanning into it, a payment in progress (edits then come disabled,
 *    with the reason beside them), a cart just paid, the last scan.
 *  - while the stream is down, that block is polled every POLL_MS with If-None-Match (the
 *    server answers 304 when nothing changed), until the stream is back.
 *  - the stream and the block also carry the cart's scan count: every scan a cart device sends
 *    moves it, whatever the scan came to, and the block then holds a notice saying what (the
 *    server renders it while it is fresh). The page shows each notice once, announces it to
 *    screen readers and hides it after NOTICE_MS.
 * No inline script anywhere: the site's Content-Security-Policy forbids it.
 */
(() => {
  "use strict";

  const POLL_MS = 2000;
  const NOTICE_MS = 6000;
  const FRAGMENT_HEADERS = { "X-Requested-With": "fetch" };

  const root = document.querySelector("[data-cart]");
  if (!root || !window.fetch) return;
  document.documentElement.classList.add("js-cart");

  const announcer = root.querySelector("[data-cart-announce]");
  const liveBadge = root.querySelector("[data-cart-live]");
  let source = null; // the EventSource
  let streamCart = null; // the cart id the stream listens to ("" for none yet)
  let pollTimer = null;
  let refreshing = null; // AbortController of the refresh under way
  let editsInFlight = 0;
  let refreshAfterEdits = false;
  let noticeKey = null; // "cart:scan count" of the last scan notice shown
  let noticeTimer = null; // set while that notice is still to be seen

  const body = () => root.querySelector("[data-cart-body]");

  function say(text) {
    announcer.textContent = "";
    window.setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function showLive(state) {
    liveBadge.hidden = false;
    liveBadge.dataset.state = state;
    liveBadge.textContent = state === "live" ? "Updates live" : "Updates every few seconds";
  }

  /* Put the cart block in ``html`` in place of the page's. From a live refresh, keeps what the
   * shopper is typing; never goes back to an older version of the same cart. */
  function swap(html, fromRefresh) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.querySelector("[data-cart-body]");
    if (!fresh) return false;
    const old = body();
    const sameCart = fresh.dataset.cartId === old.dataset.cartId;
    const older = (name) => Number(fresh.dataset[name]) < Number(old.dataset[name]);
    if (sameCart && (older("cartVersion") || older("cartScans") || older("cartPairings"))) {
      return true;
    }
    const focused = root.contains(document.activeElement) ? document.activeElement : null;
    const typed = fromRefresh && focused && focused.tagName === "INPUT"
      && focused.value !== focused.defaultValue ? focused.value : null;
    old.replaceWith(fresh);
    if (focused && focused.id) {
      const again = document.getElementById(focused.id);
      if (again) {
        if (typed !== null) again.value = typed;
        again.focus();
      } else if (!fromRefresh) {
        root.querySelector("h1").focus(); // the line went away with the button pressed
      }
    }
    document.querySelectorAll("[data-cart-count]").forEach((count) => {
      count.textContent = fresh.dataset.cartUnits;
    });
    if (streamCart !== null && fresh.dataset.cartId !== streamCart) streamRestart();
    return true;
  }

  /* The block's scan notice: shown once, then hidden after NOTICE_MS, even when a later block
   * (an edit's answer, a refresh) brings the same notice again while it is fresh. Returns the
   * notice's text when it is new to the page, for the screen reader. */
  function noticeFollow() {
    const notice = body().querySelector("[data-scan-notice]");
    if (!notice) return null;
    const key = `${body().dataset.cartId}:${notice.dataset.scanNotice}`;
    if (key === noticeKey) {
      if (noticeTimer === null) notice.hidden = true; // already shown for its time
      return null;
    }
    noticeKey = key;
    window.clearTimeout(noticeTimer);
    noticeTimer = window.setTimeout(() => {
      noticeTimer = null;
      const shown = body().querySelector("[data-scan-notice]");
      if (shown) shown.hidden = true;
    }, NOTICE_MS);
    return notice.textContent.trim();
  }

  /* A refused edit: its field (the coupon code, a quantity box; the server marks it
   * aria-invalid, keeps what was typed and puts the reason beside it) gets the focus, or else
   * the block's error messages come into view: on a phone, the error is where the eye is. */
  function errorShow() {
    const field = body().querySelector("[aria-invalid='true']");
    const target = field || body().querySelector(".cart-messages[role='alert']");
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    if (field) field.focus({ preventScroll: true });
  }

  // --- Edits ----------------------------------------------------------------------------------

  function send(form) {
    if (form.dataset.sending) return; // Enter in the quantity box: "change", then "submit"
    form.dataset.sending = "1";
    editsInFlight += 1;
    root.setAttribute("aria-busy", "true");
    if (refreshing) refreshing.abort(); // the edit's answer is newer
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: FRAGMENT_HEADERS,
      credentials: "same-origin",
      cache: "no-store",
    })
      .then((response) => {
        if (response.status !== 200 && response.status !== 400) {
          throw new Error(`cart edit answered ${response.status}`);
        }
        return response.text().then((html) => {
          if (!swap(html, false)) throw new Error("no cart in the answer");
          const pageMessages = document.querySelector("body > .messages");
          if (pageMessages) pageMessages.remove(); // they were about the page as it loaded
          const news = noticeFollow();
          if (news) say(news);
          else if (response.ok) say("Cart updated.");
          if (!response.ok) errorShow();
        });
      })
      .catch(() => {
        // Let the browser post the form itself: the server then shows what happened.
        delete form.dataset.sending;
        HTMLFormElement.prototype.submit.call(form);
      })
      .finally(() => {
        delete form.dataset.sending;
        editsInFlight -= 1;
        if (editsInFlight === 0) {
          root.removeAttribute("aria-busy");
          if (refreshAfterEdits) {
            refreshAfterEdits = false;
            refresh();
          }
        }
      });
  }

  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("[data-cart-form]")) return;
    event.preventDefault();
    send(form);
  });

  // The quantity box sends itself when it changes (its "Update" button is for pages without JS).
  root.addEventListener("change", (event) => {
    const form = event.target.closest("[data-cart-autosubmit]");
    if (form && form.reportValidity()) send(form);
  });

  // --- Live updates ---------------------------------------------------------------------------

  function refresh() {
    if (editsInFlight) {
      refreshAfterEdits = true;
      return;
    }
    if (refreshing) refreshing.abort();
    const controller = new AbortController();
    refreshing = controller;
    const headers = { ...FRAGMENT_HEADERS };
    const etag = body().dataset.etag;
    if (etag) headers["If-None-Match"] = etag;
    fetch(root.dataset.fragmentUrl, {
      headers,
      credentials: "same-origin",
      cache: "no-store", // the 304 reaches this code instead of the browser's cache
      signal: controller.signal,
    })
      .then((response) => {
        if (response.status !== 200) return undefined;
        return response.text().then((html) => {
          if (swap(html, true)) say(noticeFollow() || "Your cart changed.");
        });
      })
      .catch(() => {})
      .finally(() => {
        if (refreshing === controller) refreshing = null;
      });
  }

  function pollStart() {
    if (pollTimer === null) pollTimer = window.setInterval(refresh, POLL_MS);
    showLive("polling");
  }

  function pollStop() {
    if (pollTimer !== null) window.clearInterval(pollTimer);
    pollTimer = null;
  }

  function streamStart() {
    if (!window.EventSource) {
      pollStart();
      return;
    }
    source = new EventSource(root.dataset.eventsUrl);
    source.onmessage = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      pollStop();
      showLive("live");
      streamCart = data.cart === null ? "" : String(data.cart);
      const shown = body().dataset;
      if (
        streamCart !== shown.cartId
        || String(data.version) !== shown.cartVersion
        || String(data.scans) !== shown.cartScans
        || String(data.pairings) !== shown.cartPairings
      ) refresh();
    };
    // The stream ends every few minutes and EventSource reconnects by itself; until its first
    // event arrives (or for good, when the server refuses it), polling takes over.
    source.onerror = () => {
      pollStart();
      refresh();
    };
  }

  function streamRestart() {
    if (source) source.close();
    streamCart = null;
    streamStart();
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  // Leaving the page frees the server's stream at once; coming back (bfcache) starts anew.
  window.addEventListener("pagehide", () => {
    if (source) source.close();
    pollStop();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      streamRestart();
      refresh();
    }
  });

  noticeFollow(); // a scan a moment before the page loaded
  streamStart();
})();
