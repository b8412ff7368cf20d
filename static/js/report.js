// The report forms (a worker's /incidents/new and the residents' /public/report): a point from
// a tap on the map or the phone's location (WGS84), photos checked in the browser first, and
// a multipart upload with a progress bar.  The server checks everything again.
(function () {
  "use strict";

  const { errorText, say, el } = window.Wangge;
  const form = document.getElementById("report-form");
  const map = window[form.dataset.map];
  const $ = (id) => document.getElementById(id);
  const message = $("report-message");
  const progress = $("upload-progress");
  const maxPhotos = Number(form.dataset.maxPhotos);
  const maxPhotoBytes = Number(form.dataset.maxPhotoMb) * 1024 * 1024;
  const maxUploadBytes = Number(form.dataset.maxUploadMb) * 1024 * 1024;
  const TYPES = { "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP" };
  const EXTENSIONS = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };
  const photos = []; // File objects, added one or several at a time (a camera gives one)

  // --- the point ------------------------------------------------------------------------------

  const pin = L.layerGroup().addTo(map);

  function setPoint(lat, lon, how) {
    form.elements.lon.value = lon.toFixed(7);
    form.elements.lat.value = lat.toFixed(7);
    form.elements.crs.value = "wgs84";
    pin.clearLayers();
    L.circleMarker([lat, lon], { radius: 10, color: "#fff", weight: 3, fillColor: "#c0392b", fillOpacity: 1 })
      .addTo(pin);
    $("point-text").textContent = `${how}：${lon.toFixed(6)}, ${lat.toFixed(6)}（WGS84）`;
    form.dataset.point = "set";
  }

  map.on("click", (e) => setPoint(e.latlng.lat, e.latlng.lng, "地图选点"));

  $("use-location").addEventListener("click", () => {
    if (!navigator.geolocation) {
      say(message, "此浏览器不支持定位，请在地图上点选位置。", "error");
      return;
    }
    say(message, "正在获取您的位置…", "ok");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords; // WGS84
        setPoint(latitude, longitude, "我的位置");
        map.setView([latitude, longitude], Math.max(map.getZoom(), 17));
        message.hidden = true;
      },
      (error) => say(message, `无法获取位置（${error.message || error.code}），请在地图上点选。`, "error"),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });

  // --- photos -------------------------------------------------------------------------------

  function photoType(file) {
    if (TYPES[file.type]) return file.type;
    const extension = (file.name.split(".").pop() || "").toLowerCase();
    return file.type ? null : EXTENSIONS[extension] || null;
  }

  function photoProblem(file) {
    if (!photoType(file)) return `“${file.name}”不是 JPEG、PNG 或 WebP 图片`;
    if (file.size > maxPhotoBytes) {
      return `“${file.name}”有 ${(file.size / 1048576).toFixed(1)} MB，超过每张 ${form.dataset.maxPhotoMb} MB 的限制`;
    }
    if (file.size === 0) return `“${file.name}”是空文件`;
    return null;
  }

  function showPhotos() {
    const list = $("photo-list");
    list.replaceChildren();
    photos.forEach((file, index) => {
      const remove = el("button", { type: "button", class: "link", "aria-label": `移除 ${file.name}`, text: "移除" });
      remove.addEventListener("click", () => {
        photos.splice(index, 1);
        showPhotos();
      });
      list.append(el("li", {}, el("span", { text: `${file.name}（${Math.ceil(file.size / 1024)} KB）` }), remove));
    });
    $("photo-count").textContent = `${photos.length} / ${maxPhotos}`;
  }

  const picker = form.elements.photos;
  picker.addEventListener("change", () => {
    const problems = [];
    for (const file of picker.files) {
      const problem = photoProblem(file);
      if (problem) problems.push(problem);
      else if (photos.length >= maxPhotos) problems.push(`最多 ${maxPhotos} 张照片，“${file.name}”未添加`);
      else photos.push(file);
    }
    picker.value = ""; // the same file may be chosen again after removing it
    showPhotos();
    if (problems.length) say(message, `照片未添加：${problems.join("；")}。`, "error");
    else message.hidden = true;
  });

  // --- sending ------------------------------------------------------------------------------

  function check() {
    if (form.dataset.point !== "set") return "请先在地图上点选位置，或使用我的位置。";
    if (!form.elements.category.value) return "请选择事件类别。";
    if (!form.elements.description.value.trim()) return "请填写事件描述。";
    const total = photos.reduce((sum, f) => sum + f.size, 0);
    if (total > maxUploadBytes) return `照片合计超过 ${form.dataset.maxUploadMb} MB，请减少照片。`;
    return null;
  }

  function body() {
    const data = new FormData();
    for (const field of form.elements) {
      if (!field.name || field.type === "file" || field.disabled) continue;
      if (field.value !== "") data.append(field.name, field.value);
    }
    for (const file of photos) data.append("photos", file, file.name);
    return data;
  }

  function failed(xhr) {
    let error = null;
    try {
      error = JSON.parse(xhr.responseText).error;
    } catch (ignored) {
      error = null;
    }
    return errorText(error, xhr.status);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const problem = check();
    if (problem) {
      say(message, problem, "error");
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    say(message, "正在上传…", "ok");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.endpoint);
    xhr.setRequestHeader("X-CSRFToken", form.dataset.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) {
        progress.value = 100;
        const answer = JSON.parse(xhr.responseText);
        say(message, "已提交，正在打开…", "ok");
        window.location.assign(answer.page_url || `/incidents/${answer.id}`);
        return;
      }
      submit.disabled = false;
      progress.hidden = true;
      say(message, `未能提交。${failed(xhr)}`, "error");
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      progress.hidden = true;
      say(message, "网络连接失败，请检查网络后重试。", "error");
    });
    xhr.send(body());
  });

  showPhotos();
  form.dataset.ready = "true";
})();
