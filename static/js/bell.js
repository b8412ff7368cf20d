// The bell in the header: unread notices (asked for on page load and every 60 s), a dropdown
// of the latest ones linking to their incidents, and "mark all read".
(function () {
  "use strict";

  const bell = document.getElementById("bell");
  if (!bell) return;
  const button = document.getElementById("bell-button");
  const panel = document.getElementById("bell-panel");
  const count = document.getElementById("bell-count");
  const list = document.getElementById("bell-list");
  const POLL_MS = 60_000;
  const headers = { Accept: "application/json", "X-CSRFToken": bell.dataset.csrf };

  function when(iso) {
    return new Intl.DateTimeFormat("zh-CN", {
      timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", hour12: false,
    }).format(new Date(iso));
  }

  function showCount(unread) {
    count.textContent = unread > 99 ? "99+" : String(unread);
    count.hidden = unread === 0;
    bell.dataset.unread = String(unread);
    button.setAttribute("aria-label", unread ? _("Notifications (%(n)s unread)", { n: unread }) : _("Notifications"));
  }

  function item(notice) {
    const li = document.createElement("li");
    li.className = notice.read ? "read" : "unread";
    const link = document.createElement(notice.incident_id ? "a" : "span");
    if (notice.incident_id) {
      link.href = `/incidents/${notice.incident_id}`;
      link.addEventListener("click", () => markRead([notice.id]));
    }
    link.className = "bell-item";
    const text = document.createElement("span");
    text.textContent = notice.message;
    const time = document.createElement("small");
    time.textContent = when(notice.created_at);
    link.append(text, time);
    li.append(link);
    return li;
  }

  function show(data) {
    showCount(data.unread);
    list.replaceChildren(...data.items.map(item));
    if (!data.items.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = _("No notifications yet");
      list.append(empty);
    }
  }

  async function refresh() {
    try {
      const response = await fetch("/api/v1/notifications", { headers, credentials: "same-origin" });
      if (response.ok) show(await response.json());
    } catch (ignored) {
      // Offline for a moment: the next poll tries again.
    }
  }

  async function markRead(ids) {
    const init = { method: "POST", headers: { ...headers }, credentials: "same-origin", keepalive: true };
    if (ids) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify({ ids });
    }
    const response = await fetch("/api/v1/notifications/read", init);
    if (response.ok) showCount((await response.json()).unread);
  }

  button.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) refresh();
  });
  document.addEventListener("click", (e) => {
    if (!panel.hidden && !bell.contains(e.target)) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
    }
  });
  document.getElementById("bell-read-all").addEventListener("click", async () => {
    await markRead(null);
    list.querySelectorAll("li.unread").forEach((li) => (li.className = "read"));
  });

  refresh().then(() => (bell.dataset.ready = "true"));
  setInterval(refresh, POLL_MS);
})();
