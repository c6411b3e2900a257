// Help desk behaviour that HTML and htmx attributes cannot express alone.
// No inline scripts anywhere (the content security policy forbids them).

// Send the page's CSRF token with every htmx request (the server checks X-CSRFToken).
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// A search box jumps to a ticket number only when its form is submitted (Enter or the
// button), never from the live search that runs on a pause in typing: the server tells
// the two apart by this header (helpdesk/search/jump.py).
document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt;
  const trigger = event.detail.triggeringEvent;
  if (trigger && trigger.type === "submit" && form.querySelector
      && form.querySelector('input[type="search"]')) {
    event.detail.headers["X-Search-Submitted"] = "1";
  }
});

// Inline expansion: a ticket fragment lands in the hidden row under its queue row.
// A second click on an open ticket closes it instead of loading it again.
document.addEventListener("htmx:beforeRequest", (event) => {
  const link = event.detail.elt;
  if (!link.matches || !link.matches(".ticket-row a[hx-get]")) return;
  const expansion = document.getElementById("expand-" + link.closest(".ticket-row").dataset.ticket);
  if (expansion && !expansion.hidden) {
    event.preventDefault();
    collapse(expansion);
  }
});

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

// Keyboard: j/k move, Enter or o opens, r replies, Esc closes.
function rows() {
  return Array.from(document.querySelectorAll("tr.ticket-row"));
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
  selectedTicket = row.dataset.ticket;
  row.scrollIntoView({ block: "nearest" });
}

document.addEventListener("htmx:load", (event) => {
  const row = event.detail.elt;
  if (row.matches && row.matches("tr.ticket-row") && row.dataset.ticket === selectedTicket) {
    row.classList.add("is-selected");
  }
});

function expansionOf(row) {
  return row && document.getElementById("expand-" + row.dataset.ticket);
}

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
    if (expansion && expansion.hidden) current.querySelector("a.expand-link").click();
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
      current.querySelector("a.expand-link").click();
    }
  } else {
    return;
  }
  event.preventDefault();
});
