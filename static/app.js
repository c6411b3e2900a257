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

// Queue rows: one listener serves every row. The row links are plain hrefs to the ticket,
// so they work without JavaScript (and with a modifier key, in a new tab); here a click on
// a row's number or subject opens the ticket in an expansion row under it instead (added on
// first use; a second click closes it), and a click on its status badge (a.control-badge
// .badge) or assignee (a.control-badge.plain) swaps in that dropdown (desk.row_control: the
// ticket's URL and /controls/<name>).
function controlOf(link) {
  if (!link.classList.contains("control-badge")) return null;
  return link.classList.contains("badge") ? "status" : "assignee";
}

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey
      || event.shiftKey || event.altKey || !window.htmx) return;
  let link = event.target.closest && event.target.closest("tr.ticket-row a[href]");
  if (!link) {
    // Anywhere else on a row (not a control, not text being selected) opens it as its
    // number does.
    const row = event.target.closest && event.target.closest("tr.ticket-row");
    if (!row || event.target.closest("form, select, input, button, textarea")
        || String(window.getSelection())) return;
    link = row.querySelector("td.number a");
    if (!link) return;
  }
  const control = controlOf(link);
  if (control) {
    event.preventDefault();
    htmx.ajax("GET", link.pathname + "/controls/" + control,
      { source: link, target: link, swap: "outerHTML" });
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
    const shown = link.textContent.replace(/\s*▾$/, "");
    const what = controlOf(link) === "status" ? "Status" : "Assignee";
    link.setAttribute("aria-label", `${what} of ${number}: ${shown} (change)`);
  });
}

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

// Keyboard: j/k move, Enter or o opens, r replies, Esc closes.
function rows() {
  return Array.from(document.querySelectorAll("tr.ticket-row"));
}

// A queue row's ticket id, from its id ("row-<id>").
function ticketOf(row) {
  return row.id.slice("row-".length);
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
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
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
    const expansion = expansionOf(current);
    const box = expansion && expansion.querySelector(".reply-box textarea");
    if (box && !expansion.hidden) {
      box.focus();
    } else {
      document.body.addEventListener("htmx:afterSettle", function focusReply() {
        document.body.removeEventListener("htmx:afterSettle", focusReply);
        const opened = expansionOf(current).querySelector(".reply-box textarea");
        if (opened) opened.focus();
      });
      current.querySelector("td.number a").click();
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
