// Talking to the incidents API from our pages (window.Wangge: requests, errors in Chinese,
// deadline colours), and the incident page: workflow steps, re-routing, marking duplicates.
(function () {
  "use strict";

  // What went wrong, in Chinese; the server's own reason follows it.
  const CODES = {
    outside_grids: "该位置不在任何网格内，无法受理",
    unknown_category: "事件类别无效",
    illegal_transition: "事件当前状态不能执行这一步",
    forbidden: "您无权执行此操作",
    not_found: "找不到该事件，或它不在您的辖区",
    payload_too_large: "文件太大",
    csrf_failed: "页面已过期，请刷新后重试",
    unauthorized: "登录已过期，请重新登录",
    conflict: "与当前状态冲突",
    invalid_data: "提交的数据无效",
    bad_request: "请求有误",
    internal_error: "服务器内部错误",
  };
  const STATUS_TEXT = {
    400: "请求有误", 401: "请先登录", 403: "无权操作", 404: "未找到", 409: "状态冲突",
    413: "文件太大，超过服务器允许的上传大小", 422: "数据无效", 500: "服务器内部错误",
  };
  const FIELDS = {
    category: "类别", description: "描述", photos: "照片", lon: "经度", lat: "纬度",
    crs: "坐标系", location: "位置", note: "备注", rating: "评分", duplicate_of: "重复事件",
    grid: "网格", address: "地址", contact_name: "姓名", contact_phone: "电话", q: "地址",
    to: "步骤",
  };
  const STATE = { ok: "正常", near: "临近期限", overdue: "超期", done: "已办结" };

  /** An error envelope (or an HTTP status) as one Chinese sentence with the reason. */
  function errorText(error, status) {
    const e = error || {};
    const field = e.details && typeof e.details === "object" ? FIELDS[e.details.field] : null;
    let text = CODES[e.code] || STATUS_TEXT[status] || `请求失败（HTTP ${status || "?"}）`;
    if (field) text += `（${field}）`;
    if (e.message) text += `：${e.message}`;
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
      throw { code: "network", message: "网络连接失败，请检查网络后重试", status: 0 };
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

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
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

  window.Wangge = { api, errorText, say, el, shanghai, STATE };

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
      .bindTooltip(`#${incidentId}`);
    map.setView(at, 17);
  }

  /** Send one action and show the case as it is now; ``movedAway`` explains a 404 after a
   *  re-route: the case went to a grid outside the user's area, so they no longer see it. */
  async function act(method, url, body, movedAway) {
    const buttons = root.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    say(message, "正在提交…", "ok");
    try {
      const answer = await api(method, url, body, csrf);
      if (movedAway && answer && answer.in_your_area === false) {
        message.replaceChildren(movedAway, " ", el("a", { href: "/worker", text: "返回工作台" }));
        message.className = "message ok";
        message.hidden = false;
        return;
      }
      say(message, "已完成。", "ok");
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
    stepForm.querySelectorAll("button[data-step]").forEach((button) => {
      button.addEventListener("click", () => {
        const step = button.dataset.step;
        const fields = stepForm.elements;
        if (step === "rated" && !fields.rating.value) {
          say(message, "请先选择 1–5 分的评价。", "error");
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
          `已改派到 ${button.dataset.reroute}，该事件已不在您的辖区。`));
  });

  root.querySelectorAll("button[data-duplicate-of]").forEach((button) => {
    button.addEventListener("click", () => {
      const body = new FormData();
      body.append("to", "duplicate");
      body.append("duplicate_of", button.dataset.duplicateOf);
      body.append("note", `与 #${button.dataset.duplicateOf} 重复`);
      act("POST", `/api/v1/incidents/${incidentId}/transitions`, body);
    });
  });
  root.dataset.ready = "true";
})();
