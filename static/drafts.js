// Drafts: what someone types into a form marked data-draft="<name>" is kept in this browser
// (localStorage) until the server has taken it, so closing a ticket, a reload, a failed
// request or an ended session loses nothing.
//
// - Key: "helpdesk-draft:<user id>:<form name>" (the user id from <body data-user>), so on a
//   shared browser one person's drafts never show for another. Signing out (a form marked
//   data-forget-drafts) removes them; an ended session does not.
// - Saved on every input or change while a text field has something in it; removed when
//   the text is emptied. Text only: chosen files cannot be kept, which is said on restore.
// - Restored whenever the form is drawn (page load, inline expansion, any htmx swap). A form
//   the server drew with an error is its copy of what was just sent: it wins, and becomes
//   the draft. Otherwise a text field the server filled in wins; the draft fills the rest.
// - Removed once the server accepted it: a 2xx answer to the form's htmx request, or, for a
//   plain post, the note on the page the redirect lands on (<body data-sent>, see
//   helpdesk/drafts.py). A post that failed (sign-in page, error page) leaves it in place.

(function () {
  "use strict";

  const PREFIX = "helpdesk-draft:";
  const KEEP_DAYS = 30;
  const TEXT_TYPES = ["text", "email", "search", "number", "url", "tel"];
  const SKIPPED_TYPES = ["hidden", "file", "password", "submit", "button", "reset"];

  function userPrefix() {
    const user = document.body.dataset.user;
    return user ? `${PREFIX}${user}:` : null;
  }

  function keyOf(form) {
    const prefix = userPrefix();
    return prefix && form.dataset.draft ? prefix + form.dataset.draft : null;
  }

  function read(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch (error) {
      return null;
    }
  }

  function write(key, draft) {
    try {
      localStorage.setItem(key, JSON.stringify(draft));
    } catch (error) {
      // Storage full or refused (private mode): the form still works, without a draft.
    }
  }

  function forget(key) {
    try {
      localStorage.removeItem(key);
    } catch (error) {
      // Nothing stored, nothing to remove.
    }
  }

  // The stored keys starting with ``prefix`` (none when storage is refused).
  function ownKeys(prefix) {
    try {
      const keys = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key && key.startsWith(prefix)) keys.push(key);
      }
      return keys;
    } catch (error) {
      return [];
    }
  }

  function isText(field) {
    return field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && TEXT_TYPES.includes(field.type));
  }

  function fieldsOf(form) {
    return Array.from(form.elements).filter((field) =>
      field.name && field.name !== "csrf_token" && field.tagName !== "BUTTON"
      && field.tagName !== "FIELDSET" && !SKIPPED_TYPES.includes(field.type));
  }

  function hasText(form) {
    return fieldsOf(form).some((field) => isText(field) && field.value.trim() !== "");
  }

  function pathOf(form) {
    const url = new URL(form.action, location.href);
    return url.pathname + url.search;
  }

  function save(form) {
    const key = keyOf(form);
    if (!key) return;
    // Rows are marked again only when a draft appears or goes, not on every keystroke.
    const existed = read(key) !== null;
    if (!hasText(form)) {
      forget(key);
      if (existed) markRows();
      return;
    }
    const values = {};
    for (const field of fieldsOf(form)) {
      if (field.type === "checkbox") values[field.name] = field.checked;
      else if (field.type === "radio") { if (field.checked) values[field.name] = field.value; }
      else values[field.name] = field.value;
    }
    const files = Array.from(form.querySelectorAll("input[type=file]"))
      .flatMap((input) => Array.from(input.files || []).map((file) => file.name));
    write(key, { values, files, savedAt: Date.now(), action: pathOf(form) });
    if (!existed) markRows();
  }

  // A form the server drew with an error: its fields are what was just sent.
  function isServerCopy(form) {
    return form.matches(".has-error") || form.querySelector(".field-error, [aria-invalid=true]") !== null;
  }

  function restore(form) {
    if (form.dataset.draftChecked) return;
    form.dataset.draftChecked = "1";
    const key = keyOf(form);
    const draft = key && read(key);
    if (!draft || !draft.values) return;
    if (isServerCopy(form)) {
      sayFilesLost(form, draft);
      save(form);
      return;
    }
    let restored = false;
    for (const field of fieldsOf(form)) {
      if (!(field.name in draft.values)) continue;
      const value = draft.values[field.name];
      if (isText(field)) {
        if (field.value.trim() === "" && value) {
          field.value = value;
          restored = true;
        }
      } else if (field.type === "checkbox") {
        field.checked = Boolean(value);
      } else if (field.type === "radio") {
        field.checked = field.value === value;
      } else if (field.tagName === "SELECT" && Array.from(field.options).some((o) => o.value === value)) {
        field.value = value;
      }
    }
    if (restored) {
      say(form, draft);
      save(form);
    }
  }

  // "Draft restored", with a way to throw it away, and what could not be kept.
  function say(form, draft) {
    const note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    const when = new Date(draft.savedAt || Date.now());
    note.append(`Draft restored (saved ${when.toLocaleString([], { dateStyle: "short", timeStyle: "short" })}). `);
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = "Discard draft";
    discard.addEventListener("click", () => {
      forget(keyOf(form));
      form.reset();
      form.querySelectorAll(".draft-note, .draft-files").forEach((element) => element.remove());
      markRows();
    });
    note.append(discard);
    form.prepend(note);
    const details = form.closest("details");
    if (details) details.open = true;
    sayFilesLost(form, draft);
  }

  function sayFilesLost(form, draft) {
    const input = form.querySelector("input[type=file]");
    if (!input || !draft.files || !draft.files.length) return;
    const files = document.createElement("p");
    files.className = "draft-files";
    files.textContent = `Files are not kept in a draft: attach ${draft.files.join(", ")} again.`;
    (input.closest(".field, label") || input).after(files);
  }

  function restoreWithin(root) {
    if (!root.querySelectorAll) return;
    if (root.matches("form[data-draft]")) restore(root);
    root.querySelectorAll("form[data-draft]").forEach(restore);
  }

  // Queue rows of tickets with a reply or handoff draft say so.
  function markRows(root) {
    const prefix = userPrefix();
    if (!prefix) return;
    const rows = root && root.matches && root.matches("tr.ticket-row")
      ? [root] : (root || document).querySelectorAll("tr.ticket-row");
    rows.forEach((row) => {
      const id = row.id.replace(/^row-/, "");
      const drafted = [`reply:${id}`, `handoff:${id}`].some((name) => read(prefix + name) !== null);
      const cell = row.querySelector("td.subject");
      const mark = cell && cell.querySelector(".draft-mark");
      if (drafted && cell && !mark) {
        const label = document.createElement("span");
        label.className = "draft-mark";
        label.textContent = "Draft";
        cell.insertBefore(label, cell.querySelector(".field-error"));  // after the subject
      } else if (!drafted && mark) {
        mark.remove();
      }
    });
  }

  // This user's drafts: drop the ones a plain post just delivered, and very old ones.
  function tidy() {
    const prefix = userPrefix();
    if (!prefix) return;
    const sent = (document.body.dataset.sent || "").split(" ").filter(Boolean);
    const oldest = Date.now() - KEEP_DAYS * 24 * 3600 * 1000;
    for (const key of ownKeys(prefix)) {
      const draft = read(key);
      if (!draft || sent.includes(draft.action) || (draft.savedAt || 0) < oldest) forget(key);
    }
  }

  function forgetAll() {
    const prefix = userPrefix();
    if (!prefix) return;
    ownKeys(prefix).forEach(forget);
  }

  function saveFrom(event) {
    const form = event.target.form;
    if (form && form.matches("[data-draft]")) save(form);
  }
  document.addEventListener("input", saveFrom);
  document.addEventListener("change", saveFrom);

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("[data-draft]")) save(form);
    if (form.matches("[data-forget-drafts]")) forgetAll();
  });

  // The server took the form: its draft is done with (before the fresh form is drawn).
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const { elt, xhr } = event.detail;
    if (elt.matches && elt.matches("form[data-draft]") && xhr.status >= 200 && xhr.status < 300
        && !xhr.getResponseHeader("HX-Redirect")) {
      forget(keyOf(elt));
      markRows();
    }
  });

  document.addEventListener("htmx:load", (event) => {
    restoreWithin(event.detail.elt);
    markRows(event.detail.elt);
  });

  function start() {
    tidy();
    restoreWithin(document.body);
    markRows();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
