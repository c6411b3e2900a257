// What a person sees while a request is under way and when one fails.
//
// - A request someone made (a form, a control, a link) that fails gets a message right after
//   that form or control: the server's own words for an htmx request (helpdesk/errors.py
//   answers those with plain text), or a plain sentence for a network error or a timeout.
//   Nothing is swapped, so the typed text stays where it was. The next attempt replaces it.
// - The session ended: the server answers 401 with HX-Redirect to the sign-in page, which
//   htmx follows; a ticket open under its queue row is opened again after signing in.
// - Background requests (live polls, row refreshes) never redirect and never pile up
//   messages: one quiet notice says live updates are paused, until one succeeds again.
// - Progress: htmx marks the requesting element with .htmx-request (app.css shows its
//   "Sending…") and hx-disabled-elt disables its button; a plain form post does the same here.

(function () {
  "use strict";

  // Elements that update themselves, not something a person just did.
  const BACKGROUND = ".ticket-live, #queue-live, #counters, tr.ticket-row";
  const REOPEN = "helpdesk:reopen";

  function isBackground(elt) {
    return elt.matches && elt.matches(BACKGROUND);
  }

  function succeeded(xhr) {
    return xhr.status >= 200 && xhr.status < 400;
  }

  // Where a message about ``elt`` belongs: in its queue row's subject cell, under the
  // ticket's facts for a control there, else right after its form (or itself).
  function messageSpot(elt) {
    const row = elt.closest("tr.ticket-row");
    if (row) {
      const cell = row.querySelector("td.subject");
      return { find: () => cell.querySelector(".request-error"), put: (m) => cell.append(m) };
    }
    const anchor = elt.closest("dl.facts") || elt.closest("form") || elt;
    return {
      find: () => {
        const next = anchor.nextElementSibling;
        return next && next.matches(".request-error") ? next : null;
      },
      put: (m) => anchor.after(m),
    };
  }

  function clearMessage(elt) {
    const old = messageSpot(elt).find();
    if (old) old.remove();
  }

  function showMessage(elt, text) {
    clearMessage(elt);
    const message = document.createElement("p");
    message.className = "request-error";
    message.setAttribute("role", "alert");
    const words = document.createElement("span");
    const draft = elt.closest("form[data-draft]");
    const control = elt.closest("form.inline-control");
    if (draft && hasText(draft)) {
      text += " Your text is kept.";
    } else if (control) {
      // The dropdown goes back to what is saved, and the message says which one it was.
      control.reset();
      const select = control.querySelector("select");
      const label = select && select.getAttribute("aria-label");
      if (label) text = `${label} not changed. ${text}`;
    }
    words.textContent = text;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "dismiss";
    dismiss.setAttribute("aria-label", "Dismiss this message");
    dismiss.textContent = "×";
    dismiss.addEventListener("click", () => message.remove());
    message.append(words, dismiss);
    messageSpot(elt).put(message);
  }

  function hasText(form) {
    return Array.from(form.querySelectorAll("textarea, input[type=text], input[type=email]"))
      .some((field) => field.value.trim() !== "");
  }

  const STATUS_WORDS = {
    403: "You are not allowed to do that.",
    404: "This ticket no longer exists, or you no longer have access to it.",
    413: "What you sent is larger than this help desk accepts. Make the attachment smaller.",
    429: "Too many requests in a short time. Wait a minute and try again.",
    502: "The help desk cannot be reached right now. Try again in a minute.",
    503: "The help desk cannot be reached right now. Try again in a minute.",
    504: "The help desk took too long to answer. Try again in a minute.",
  };

  // The server's message when it sent one as plain text, else words for the status.
  function messageFor(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    const body = (xhr.responseText || "").trim();
    if (type.startsWith("text/plain") && body && body.length <= 600) return body;
    return STATUS_WORDS[xhr.status]
      || `The help desk answered with an error (${xhr.status}). Try again.`;
  }

  // One quiet notice for all background requests, changed only when its words change (a
  // screen reader would announce it again at every poll).
  function liveNotice(text, signInUrl) {
    let notice = document.getElementById("live-notice");
    if (notice && notice.dataset.signedOut && !signInUrl) return; // signed out says more
    if (notice && notice.dataset.text === text) return;
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "live-notice";
      notice.className = "live-notice";
      notice.setAttribute("role", "status");
      document.body.append(notice);
    }
    notice.replaceChildren(text);
    notice.dataset.text = text;
    if (signInUrl) {
      notice.dataset.signedOut = "1";
      const link = document.createElement("a");
      link.href = signInUrl;
      link.textContent = "Sign in again";
      notice.append(" ", link);
    }
  }

  function clearLiveNotice() {
    const notice = document.getElementById("live-notice");
    if (notice) notice.remove();
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (!isBackground(elt)) clearMessage(elt);
  });

  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const { elt, xhr } = event.detail;
    const redirect = xhr.getResponseHeader("HX-Redirect");
    if (isBackground(elt)) {
      if (xhr.status === 401) {
        event.preventDefault(); // no one asked to leave the page
        liveNotice("Live updates paused: you are signed out.", redirect);
      } else if (succeeded(xhr)) {
        clearLiveNotice();
      }
      return;
    }
    if (xhr.status === 401 && redirect) {
      // Signing in again brings back this page; bring back the open ticket too.
      const ticket = elt.closest("tr.expansion, tr.ticket-row");
      if (ticket) {
        const id = ticket.id.replace(/^(expand|row)-/, "");
        sessionStorage.setItem(REOPEN, JSON.stringify({ ticket: id, at: Date.now() }));
      }
    }
  });

  document.addEventListener("htmx:responseError", (event) => {
    const { elt, xhr } = event.detail;
    if (isBackground(elt)) {
      liveNotice("Live updates paused: the help desk answered with an error.");
    } else {
      showMessage(elt, messageFor(xhr));
    }
  });

  function unreachable(event) {
    const elt = event.detail.elt;
    if (isBackground(elt)) {
      liveNotice("Live updates paused: connection lost. Retrying…");
    } else {
      showMessage(elt, "Could not reach the help desk: check your connection and try again.");
    }
  }
  document.addEventListener("htmx:sendError", unreachable);
  document.addEventListener("htmx:timeout", unreachable);

  // Signed in again (within the hour): open the ticket that was open under its queue row.
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt !== document.body || !document.body.dataset.user) return;
    const saved = sessionStorage.getItem(REOPEN);
    if (!saved) return;
    sessionStorage.removeItem(REOPEN);
    const { ticket, at } = JSON.parse(saved);
    const link = document.querySelector(`#row-${CSS.escape(ticket)} td.number a`);
    if (link && Date.now() - at < 3600 * 1000) link.click();
  });

  // A plain form post: disable its buttons while the next page loads, so it goes once.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.method !== "post" || form.matches("[hx-post], [data-hx-post]")) return;
    if (form.classList.contains("is-sending")) {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) return;
    form.classList.add("is-sending");
    // After the browser has read the form (a disabled submitter would not be sent).
    setTimeout(() => {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach((button) => {
        if (!button.disabled) {
          button.disabled = true;
          button.dataset.disabledBySubmit = "";
        }
      });
    }, 0);
  });

  // Back to a page from the browser's cache: its forms can be sent again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll("form.is-sending").forEach((form) => form.classList.remove("is-sending"));
    document.querySelectorAll("[data-disabled-by-submit]").forEach((button) => {
      button.disabled = false;
      delete button.dataset.disabledBySubmit;
    });
  });
})();
