// Talking to the incidents API from our pages (window.Wangge: requests, errors in the page's
// language, deadline colours), and the incident page: workflow steps, re-routing, marking duplicates.
(function () {
  "use strict";

  // What went wrong, in the page's language; the server's own reason follows it.
  const CODES = {
    outside_grids: _("This place is in no grid; the incident cannot be taken in"),
    unknown_category: _("The incident category is not valid"),
    illegal_transition: _("The incident cannot take this step in its current state"),
    forbidden: _("You may not do this"),
    not_found: _("The incident was not found, or it is outside your area"),
    payload_too_large: _("The file is too large"),
    csrf_failed: _("The page has expired; reload it and try again"),
    unauthorized: _("Your login has expired; please log in again"),
    conflict: _("It conflicts with the current state"),
    invalid_data: _("The data sent is not valid"),
    bad_request: _("The request is wrong"),
    internal_error: _("Internal server error"),
  };
  const STATUS_TEXT = {
    400: _("The request is wrong"), 401: _("Please log in first"), 403: _("Not allowed"),
    404: _("Not found"), 409: _("State conflict"),
    413: _("The file is too large for the server’s upload limit"), 422: _("Invalid data"),
    500: _("Internal server error"),
  };
  const FIELDS = {
    category: _("Category"), description: _("Description"), photos: _("Photos"),
    lon: _("Longitude"), lat: _("Latitude"), crs: _("Coordinate system"), location: _("Location"),
    note: _("Note"), rating: _("Rating"), duplicate_of: _("Duplicate of"), grid: _("Grid"),
    address: _("Address"), contact_name: _("Name"), contact_phone: _("Phone"), q: _("Address"),
    to: _("Step"),
  };
  const STATE = { ok: _("On time"), near: _("Near the deadline"), overdue: _("Overdue"), done: _("Closed") };

  /** An error envelope (or an HTTP status) as one sentence with the reason. */
  function errorText(error, status) {
    const e = error || {};
    const field = e.details && typeof e.details === "object" ? FIELDS[e.details.field] : null;
    let text = CODES[e.code] || STATUS_TEXT[status] || _("The request failed (HTTP %(status)s)", { status: status || "?" });
    if (field) text = _("%(summary)s (%(reason)s)", { summary: text, reason: field });
    if (e.message) text = _("%(summary)s: %(reason)s", { summary: text, reason: e.message });
    return text;
  }

  /** fetch() JSON from our API; rejects with {code, message, details, status}. */
  async function api(method, url, body, csrf) {
    const headers = { Accept: "application/json" };
    if (csrf) headers["X-CSRFToken"] = csrf;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    } catch (err) {
      throw { code: "network", message: _("The network connection failed; check it and try again"), status: 0 };
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || {};
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function say(box, text, kind) {
    box.textContent = text;
    box.className = `message ${kind || "ok"}`;
    box.hidden = false;
  }

  /** An ISO time in Asia/Shanghai, e.g. 2026-11-30 18:40. */
  function shanghai(iso) {
    if (!iso) return "—";
    const parts = new Intl.DateTimeFormat("zh-CN", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false,
    }).formatToParts(new Date(iso));
    const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  }

  const { el, escapeHtml } = window.Wangge; // html.js
  Object.assign(window.Wangge, { api, errorText, say, shanghai, STATE });

  // --- the incident page -------------------------------------------------------------------

  const root = document.getElementById("incident");
  if (!root) return;
  const csrf = root.dataset.csrf;
  const incidentId = root.dataset.id;
  const message = document.getElementById("incident-message");
  const map = window[root.dataset.map];

  if (map) {
    const at = [Number(root.dataset.lat), Number(root.dataset.lon)];
    const colour = getComputedStyle(root).getPropertyValue("--state-colour").trim() || "#1565c0";
    L.circleMarker(at, { radius: 10, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1 })
      .addTo(map)
      .bindTooltip(escapeHtml(`#${incidentId}`));
    map.setView(at, 17);
  }

  /** Send one action and show the case as it is now; ``movedAway`` explains a 404 after a
   *  re-route: the case went to a grid outside the user's area, so they no longer see it. */
  async function act(method, url, body, movedAway) {
    const buttons = root.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    say(message, _("Sending…"), "ok");
    try {
      const answer = await api(method, url, body, csrf);
      if (movedAway && answer && answer.in_your_area === false) {
        message.replaceChildren(movedAway, " ", el("a", { href: "/worker", text: _("Back to my page") }));
        message.className = "message ok";
        message.hidden = false;
        return;
      }
      say(message, _("Done."), "ok");
      window.location.reload();
    } catch (error) {
      say(message, errorText(error, error.status), "error");
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  // The step buttons: a note for every step, a rating (1-5) for "rated", photos for
  // "reported_back"; the template shows those fields only when such a step is offered.
  const stepForm = document.getElementById("step-form");
  if (stepForm) {
    stepForm.addEventListener("submit", (event) => event.preventDefault()); // the buttons send
    stepForm.querySelectorAll("button[data-step]").forEach((button) => {
      button.addEventListener("click", () => {
        const step = button.dataset.step;
        const fields = stepForm.elements;
        if (step === "rated" && !fields.rating.value) {
          say(message, _("Choose a rating from 1 to 5 first."), "error");
          return;
        }
        const body = new FormData();
        body.append("to", step);
        const note = fields.note.value.trim();
        if (note) body.append("note", note);
        if (step === "rated") body.append("rating", fields.rating.value);
        if (step === "reported_back" && fields.photos) {
          for (const file of fields.photos.files) body.append("photos", file);
        }
        act("POST", `/api/v1/incidents/${incidentId}/transitions`, body);
      });
    });
  }

  root.querySelectorAll("button[data-reroute]").forEach((button) => {
    button.addEventListener("click", () =>
      act("POST", `/api/v1/incidents/${incidentId}/reroute`, { grid: button.dataset.reroute },
          _("Re-routed to %(code)s; the incident is no longer in your area.", { code: button.dataset.reroute })));
  });

  root.querySelectorAll("button[data-duplicate-of]").forEach((button) => {
    button.addEventListener("click", () => {
      const body = new FormData();
      body.append("to", "duplicate");
      body.append("duplicate_of", button.dataset.duplicateOf);
      body.append("note", _("Duplicate of #%(id)s", { id: button.dataset.duplicateOf }));
      act("POST", `/api/v1/incidents/${incidentId}/transitions`, body);
    });
  });
  root.dataset.ready = "true";
})();
