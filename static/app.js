// Help desk behaviour that HTML and htmx attributes cannot express alone.
// No inline scripts anywhere (the content security policy forbids them).

// Send the page's CSRF token with every htmx request (the server checks X-CSRFToken).
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// A search form sent by htmx. Submitted (Enter or the button), it says so with a header,
// and only then does a ticket number jump to its ticket (helpdesk/search/jump.py). Sent by
// the live search, from the box on a pause in typing (or as it loses focus), its last word
// may be half written: it goes as a prefix ("rout*", the search syntax of
// helpdesk/search/query.py), so the URL the page pushes says what was searched.
document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt;
  const box = form.querySelector && form.querySelector('input[type="search"]');
  const trigger = event.detail.triggeringEvent;
  if (!box || !trigger) {
    return;
  }
  if (trigger.type === "submit") {
    event.detail.headers["X-Search-Submitted"] = "1";
    return;
  }
  if (trigger.target !== box || !["keyup", "change"].includes(trigger.type)) {
    return;
  }
  const query = event.detail.parameters.q;
  if (typeof query === "string" && /[\p{L}\p{N}]$/u.test(query)) {
    event.detail.parameters.q = query + "*";
  }
});

// Queue rows: one listener serves every row. A row's number is a plain href to the ticket,
// so it works without JavaScript (and with a modifier key, in a new tab); here a click on
// the row opens the ticket in an expansion row under it instead (added on first use; a
// second click closes it), and a click on its priority, status or assignee badge
// (a.control-badge, text until nameControls makes it a button) opens that menu over the row (desk.row_control: the ticket's URL
// and /controls/<name>). One click on a choice sends it; Esc or a click elsewhere closes it.
function controlOf(link) {
  if (!link.classList.contains("control-badge")) return null;
  if (!link.classList.contains("badge")) return "assignee";
  return /\bpriority-/.test(link.className) ? "priority" : "status";
}

function openMenu() {
  return document.querySelector(".row-menu");
}

// Close the open menu, if any; with ``refocus`` its badge takes the focus back.
function closeMenu(refocus) {
  const menu = openMenu();
  if (!menu) return false;
  const badge = menu.parentElement.querySelector("a.control-badge");
  menu.remove();
  if (refocus && badge) badge.focus();
  return true;
}

document.addEventListener("click", (event) => {
  const menu = openMenu();
  if (menu && !menu.contains(event.target)) {
    // A click elsewhere closes the menu; on its row (its badge included) it does only that.
    const row = menu.closest("tr.ticket-row");
    closeMenu(false);
    if (row && row.contains(event.target)) {
      event.preventDefault();
      return;
    }
  }
  if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey
      || event.shiftKey || event.altKey || !window.htmx) return;
  let link = event.target.closest && event.target.closest("tr.ticket-row a");
  if (!link) {
    // Anywhere else on a row (not a control, not text being selected) opens it as its
    // number does.
    const row = event.target.closest && event.target.closest("tr.ticket-row");
    if (!row || event.target.closest("form, select, input, button, textarea, .row-menu")
        || String(window.getSelection())) return;
    link = row.querySelector("td.number a");
    if (!link) return;
  }
  const control = controlOf(link);
  if (control) {
    event.preventDefault();
    const ticketPath = link.closest("tr.ticket-row").querySelector("td.number a").pathname;
    htmx.ajax("GET", ticketPath + "/controls/" + control,
      { source: link, target: link.parentElement, swap: "beforeend" });
  } else if (link.matches("td.number a, td.subject a")) {
    event.preventDefault();
    const expansion = expansionOf(link.closest("tr.ticket-row"), true);
    if (!expansion.hidden) {
      collapse(expansion);
      return;
    }
    htmx.ajax("GET", link.pathname,
      { source: link, target: expansion.firstElementChild, swap: "innerHTML" });
  }
});

// A menu that arrived takes the focus on its current choice; arrows move between choices,
// and leaving it with Tab closes it.
document.addEventListener("htmx:load", (event) => {
  const menu = event.detail.elt;
  if (!menu.matches || !menu.matches(".row-menu")) return;
  document.querySelectorAll(".row-menu").forEach((other) => other !== menu && other.remove());
  (menu.querySelector('[aria-checked="true"]') || menu.querySelector("button")).focus();
  menu.addEventListener("focusout", (out) => {
    if (out.relatedTarget && !menu.contains(out.relatedTarget)) menu.remove();
  });
});

document.addEventListener("keydown", (event) => {
  const menu = event.target.closest && event.target.closest(".row-menu");
  if (!menu || !["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
  const choices = Array.from(menu.querySelectorAll("button"));
  const at = choices.indexOf(event.target);
  const next = { ArrowDown: Math.min(at + 1, choices.length - 1), ArrowUp: Math.max(at - 1, 0),
    Home: 0, End: choices.length - 1 }[event.key];
  choices[next].focus();
  event.preventDefault();
});

// A queue row draws itself again when its ticket changed on this page: the server names the
// change in HX-Trigger (ticket-changed-<id>, desk/actions.py), an event that bubbles to the
// body. One listener per ticket shown, added as its row first arrives.
const watchedTickets = new Set();

document.addEventListener("htmx:load", (event) => {
  const root = event.detail.elt;
  if (!root.querySelectorAll) return;
  const arrived = root.matches("tr.ticket-row") ? [root] : root.querySelectorAll("tr.ticket-row");
  arrived.forEach((row) => {
    nameControls(row);
    const id = ticketOf(row);
    if (watchedTickets.has(id)) return;
    watchedTickets.add(id);
    document.body.addEventListener("ticket-changed-" + id, () => {
      const shown = document.getElementById("row-" + id);
      const link = shown && shown.querySelector("td.number a");
      if (link) htmx.ajax("GET", link.pathname + "/row", { source: shown, target: shown, swap: "outerHTML" });
    });
  });
});

// With this script a row's badges are controls: say so, and for which ticket, to screen
// readers ("Status of TKT-7: Open (change)"); without it they are links to the ticket.
function nameControls(row) {
  const number = row.querySelector("td.number a").textContent;
  row.querySelectorAll("a.control-badge").forEach((link) => {
    const what = controlOf(link);
    link.setAttribute("aria-label",
      `${what[0].toUpperCase()}${what.slice(1)} of ${number}: ${link.textContent} (change)`);
    link.setAttribute("aria-haspopup", "menu");
    link.setAttribute("role", "button");
    link.tabIndex = 0;
  });
}

// A badge is a button to the keyboard too: Enter or Space opens its menu (before the desk's
// own keys, which would open the row).
document.addEventListener("keydown", (event) => {
  const badge = event.target.closest && event.target.closest("a.control-badge");
  if (!badge || (event.key !== "Enter" && event.key !== " ")) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  badge.click();
}, true);

// The queue's changes poll (#queue-live, desk/live.py) sends the ids of the rows shown now.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.id === "queue-live") {
    event.detail.parameters.ids = rows().map(ticketOf);
  }
});

// A ticket fragment landed in its expansion row: show it and select its queue row.
document.addEventListener("htmx:afterSwap", (event) => {
  const cell = event.detail.target;
  if (cell.classList && cell.classList.contains("expansion-cell")) {
    cell.parentElement.hidden = false;
    select(document.getElementById(cell.parentElement.id.replace("expand-", "row-")));
  }
});

function collapse(expansion) {
  expansion.hidden = true;
  expansion.querySelector(".expansion-cell").replaceChildren();
}

// The row under a queue row where its ticket opens; with ``create``, added if missing.
function expansionOf(row, create) {
  if (!row) return null;
  let expansion = document.getElementById("expand-" + ticketOf(row));
  if (!expansion && create) {
    expansion = document.createElement("tr");
    expansion.id = "expand-" + ticketOf(row);
    expansion.className = "expansion";
    expansion.hidden = true;
    const cell = document.createElement("td");
    cell.className = "expansion-cell";
    cell.colSpan = row.cells.length;
    expansion.append(cell);
    row.after(expansion);
  }
  return expansion;
}

// Keyboard (the ? key lists them): j/k move, Enter or o opens, r replies, a assigns to me,
// s changes the status, n turns the reply into an internal note (and back), / searches,
// Esc closes.
function rows() {
  return Array.from(document.querySelectorAll("tr.ticket-row"));
}

// A queue row's ticket id, from its id ("row-<id>").
function ticketOf(row) {
  return row.id.slice("row-".length);
}

// Where a key was typed: the focused element, or the page when nothing (or the document
// itself) has the focus. An open dialog takes the keys; a closed one no longer does.
function keyTarget(event) {
  return event.target instanceof Element ? event.target : document.body;
}

// The selection is kept by ticket id: a row that refreshes itself stays selected.
let selectedTicket = null;

function selected() {
  return selectedTicket && document.getElementById("row-" + selectedTicket);
}

function select(row) {
  if (!row) return;
  rows().forEach((r) => r.classList.remove("is-selected"));
  row.classList.add("is-selected");
  selectedTicket = ticketOf(row);
  row.scrollIntoView({ block: "nearest" });
}

document.addEventListener("htmx:load", (event) => {
  const row = event.detail.elt;
  if (row.matches && row.matches("tr.ticket-row") && ticketOf(row) === selectedTicket) {
    row.classList.add("is-selected");
  }
});

document.addEventListener("keydown", (event) => {
  const typing = keyTarget(event).closest("input, textarea, select, [contenteditable], .row-menu, dialog[open]");
  if (event.key === "Escape" && closeMenu(true)) {
    event.preventDefault();
    return;
  }
  if (event.key === "Escape") {
    const row = selected() || (typing && typing.closest("tr.expansion")
      ? document.getElementById(typing.closest("tr.expansion").id.replace("expand-", "row-")) : null);
    const expansion = expansionOf(row);
    if (expansion && !expansion.hidden) {
      collapse(expansion);
      select(row);
      event.preventDefault();
    }
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const all = rows();
  if (!all.length) return;
  const current = selected();
  const index = current ? all.indexOf(current) : -1;
  if (event.key === "j") {
    select(all[Math.min(index + 1, all.length - 1)]);
  } else if (event.key === "k") {
    select(all[Math.max(index - 1, 0)]);
  } else if ((event.key === "Enter" || event.key === "o") && current) {
    const expansion = expansionOf(current);
    if (!expansion || expansion.hidden) current.querySelector("td.number a").click();
  } else if (event.key === "r" && current) {
    withOpenTicket(current, (ticket) => {
      const box = ticket.querySelector(".reply-box textarea");
      if (box) box.focus();
    });
  } else {
    return;
  }
  event.preventDefault();
});

// The ticket the keys act on: the selected row's (opened under it or not), or the one
// ticket of a ticket page. ``{ id, row, article }``, or null.
function currentTicket() {
  const row = selected();
  if (row) {
    const expansion = expansionOf(row);
    const open = expansion && !expansion.hidden;
    return { id: ticketOf(row), row, article: open ? document.getElementById("ticket-" + ticketOf(row)) : null };
  }
  const articles = document.querySelectorAll("article.ticket[data-ticket]");
  if (articles.length !== 1 || rows().length) return null;
  return { id: articles[0].dataset.ticket, row: null, article: articles[0] };
}

// Run ``act`` on the row's ticket, opening it under the row first if it is closed.
function withOpenTicket(row, act) {
  const expansion = expansionOf(row);
  if (expansion && !expansion.hidden) {
    act(document.getElementById("ticket-" + ticketOf(row)));
    return;
  }
  document.body.addEventListener("htmx:afterSettle", function whenOpen() {
    document.body.removeEventListener("htmx:afterSettle", whenOpen);
    const opened = document.getElementById("ticket-" + ticketOf(row));
    if (opened) act(opened);
  });
  row.querySelector("td.number a").click();
}

function assignToMe(ticket) {
  const values = { assignee: document.body.dataset.user };
  const url = "/tickets/" + ticket.id + "/assignee";
  if (ticket.article) {
    htmx.ajax("POST", url, { values, target: ticket.article, swap: "outerHTML" });
  } else {
    htmx.ajax("POST", url, { values: { ...values, view: "row" }, target: ticket.row, swap: "outerHTML" });
  }
}

function changeStatus(ticket) {
  const select = ticket.article && ticket.article.querySelector(".facts select[name=status]");
  if (select) {
    select.focus();
    if (select.showPicker) {
      try { select.showPicker(); } catch { /* not allowed here: the focus is enough */ }
    }
  } else if (ticket.row) {
    const badge = ticket.row.querySelector("a.control-badge[class*=status-]");
    if (badge) badge.click();
  }
}

function toggleNote(article) {
  const note = article.querySelector(".reply-box input[name=internal]");
  if (!note) return;
  note.checked = !note.checked;
  note.dispatchEvent(new Event("change", { bubbles: true }));
  article.querySelector(".reply-box textarea").focus();
}

const SHORTCUTS = [
  ["j / k", "Next / previous ticket in the queue"],
  ["o or Enter", "Open the selected ticket under its row"],
  ["r", "Reply to the selected ticket"],
  ["n", "Switch the reply between public reply and internal note"],
  ["a", "Assign the ticket to me"],
  ["s", "Change the ticket's status"],
  ["/", "Search"],
  ["Esc", "Close a menu or the open ticket"],
  ["?", "Show this list"],
];

// The list of keys, in a dialog (Esc or its button closes it), made on first use.
function showShortcuts() {
  let dialog = document.getElementById("shortcuts");
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "shortcuts";
    dialog.className = "shortcuts";
    dialog.setAttribute("aria-labelledby", "shortcuts-title");
    const title = document.createElement("h2");
    title.id = "shortcuts-title";
    title.textContent = "Keyboard shortcuts";
    const list = document.createElement("dl");
    SHORTCUTS.forEach(([keys, what]) => {
      const term = document.createElement("dt");
      keys.split(/( \/ | or )/).forEach((part) => {
        if (part === " / " || part === " or ") {
          term.append(part);
        } else {
          const key = document.createElement("kbd");
          key.textContent = part;
          term.append(key);
        }
      });
      const description = document.createElement("dd");
      description.textContent = what;
      list.append(term, description);
    });
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", () => dialog.close());
    dialog.append(title, list, close);
    document.body.append(dialog);
  }
  if (!dialog.open) dialog.showModal();
}

document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest("[data-shortcuts]")) showShortcuts();
});

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  if (keyTarget(event).closest("input, textarea, select, [contenteditable], .row-menu, dialog[open]")) return;
  if (event.key === "?") {
    showShortcuts();
  } else if (event.key === "/") {
    const search = document.querySelector('input[type="search"]');
    if (!search) return;
    search.focus();
    search.select();
  } else if (["a", "s", "n"].includes(event.key) && window.htmx && document.body.dataset.desk) {
    const ticket = currentTicket();
    if (!ticket) return;
    if (event.key === "a") {
      assignToMe(ticket);
    } else if (event.key === "s") {
      changeStatus(ticket);
    } else if (ticket.article) {
      toggleNote(ticket.article);
    } else {
      withOpenTicket(ticket.row, toggleNote);
    }
  } else {
    return;
  }
  event.preventDefault();
});

// Times read as people say them ("3 h ago", refreshed every minute), with the exact time on
// hover. As sent, each <time> says its exact time in the viewer's zone with its abbreviation
// (helpdesk/template_filters.py, when; the zone is the body's data-time-zone), which is what
// shows without this script; here that text becomes the title, and days ("yesterday", "3 days
// ago", a date) are counted in that same zone, so the two always agree.
function pageZone() {
  const zone = document.body.dataset.timeZone || "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return "UTC"; // a zone newer than this browser's own list
  }
}

// How a calendar in ``zone`` reads a moment: its day number (days since 1970-01-01) and year.
// Made once per zone (building Intl formats costs more than using them).
const calendars = new Map();

function calendarIn(zone) {
  if (!calendars.has(zone)) {
    const format = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" });
    const part = (parts, type) => Number(parts.find((p) => p.type === type).value);
    calendars.set(zone, {
      day(moment) {
        const parts = format.formatToParts(moment);
        return Date.UTC(part(parts, "year"), part(parts, "month") - 1, part(parts, "day")) / 86400000;
      },
      year: (moment) => part(format.formatToParts(moment), "year"),
      date: new Intl.DateTimeFormat(undefined, { timeZone: zone, day: "numeric", month: "short" }),
      dateAndYear: new Intl.DateTimeFormat(undefined, { timeZone: zone, day: "numeric", month: "short", year: "numeric" }),
    });
  }
  return calendars.get(zone);
}

// Past or to come (a sign-in's end): "3 h ago", "in 3 h", "yesterday", "tomorrow".
function relativeTime(then, now, zone) {
  const ahead = then > now;
  const seconds = Math.abs(now - then) / 1000;
  const said = (amount) => (ahead ? "in " + amount : amount + " ago");
  if (seconds < 60) return "just now";
  if (seconds < 3600) return said(Math.floor(seconds / 60) + " min");
  if (seconds < 86400) return said(Math.floor(seconds / 3600) + " h");
  const calendar = calendarIn(zone);
  const apart = Math.abs(calendar.day(now) - calendar.day(then));
  if (apart <= 1) return ahead ? "tomorrow" : "yesterday";
  if (apart < 7) return said(apart + " days");
  return (calendar.year(then) === calendar.year(now) ? calendar.date : calendar.dateAndYear).format(then);
}

function showTimes(root) {
  const now = Date.now();
  const zone = pageZone();
  root.querySelectorAll("time[datetime]").forEach((element) => {
    const then = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(then.getTime())) return;
    if (!element.title) element.title = element.textContent.trim();
    element.textContent = relativeTime(then, now, zone);
  });
}

// The browser's time zone, for the server to draw times in when the person chose none on
// their profile (helpdesk/time_zones.py reads the cookie, and ignores a name it does not know).
(function recordBrowserZone() {
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  // IANA names are letters, digits and "/_+-", all fine in a cookie as they are.
  if (!/^[\w/+-]{1,64}$/.test(zone || "") || document.cookie.split("; ").includes("tz=" + zone)) return;
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax"
    + (location.protocol === "https:" ? "; secure" : "");
})();

document.addEventListener("htmx:load", (event) => {
  if (event.detail.elt.querySelectorAll) showTimes(event.detail.elt);
});
setInterval(() => showTimes(document), 60000);

// The Admin menu (a <details> in the top bar) closes on Esc or a click outside it.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.nav-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.nav-menu[open]").forEach((menu) => {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});

// A secret shown once (a new API token on the profile page): "Copy" puts it on the
// clipboard and says so; focusing the box selects it all, for copying by hand.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  const box = document.querySelector(button.getAttribute("data-copy"));
  if (!box) {
    return;
  }
  box.select();
  const done = () => { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(box.value).then(done, () => document.execCommand("copy"));
  } else if (document.execCommand("copy")) {
    done();
  }
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
    event.target.select();
  }
});
