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
    $("point-text").textContent = _("%(how)s: %(lon)s, %(lat)s (WGS84)", { how, lon: lon.toFixed(6), lat: lat.toFixed(6) });
    form.dataset.point = "set";
  }

  map.on("click", (e) => setPoint(e.latlng.lat, e.latlng.lng, _("Point on the map")));

  $("use-location").addEventListener("click", () => {
    if (!navigator.geolocation) {
      say(message, _("This browser cannot tell your location; click the place on the map."), "error");
      return;
    }
    say(message, _("Finding your location…"), "ok");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords; // WGS84
        setPoint(latitude, longitude, _("My location"));
        map.setView([latitude, longitude], Math.max(map.getZoom(), 17));
        message.hidden = true;
      },
      (error) => say(message, _("Your location is not available (%(reason)s); click the place on the map.", { reason: error.message || error.code }), "error"),
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
    if (!photoType(file)) return _("“%(name)s” is not a JPEG, PNG or WebP picture", { name: file.name });
    if (file.size > maxPhotoBytes) {
      return _("“%(name)s” is %(size)s MB, over the limit of %(max)s MB a photo",
               { name: file.name, size: (file.size / 1048576).toFixed(1), max: form.dataset.maxPhotoMb });
    }
    if (file.size === 0) return _("“%(name)s” is empty", { name: file.name });
    return null;
  }

  function showPhotos() {
    const list = $("photo-list");
    list.replaceChildren();
    photos.forEach((file, index) => {
      const remove = el("button", { type: "button", class: "link", "aria-label": _("Remove %(name)s", { name: file.name }), text: _("Remove") });
      remove.addEventListener("click", () => {
        photos.splice(index, 1);
        showPhotos();
      });
      list.append(el("li", {}, el("span", { text: _("%(name)s (%(kb)s KB)", { name: file.name, kb: Math.ceil(file.size / 1024) }) }), remove));
    });
    $("photo-count").textContent = `${photos.length} / ${maxPhotos}`;
  }

  /** Several problems in one sentence, separated the way the language does it. */
  function listed(items) {
    return items.reduce((first, next) => _("%(first)s; %(next)s", { first, next }));
  }

  const picker = form.elements.photos;
  picker.addEventListener("change", () => {
    const problems = [];
    for (const file of picker.files) {
      const problem = photoProblem(file);
      if (problem) problems.push(problem);
      else if (photos.length >= maxPhotos) problems.push(_("At most %(max)s photos; “%(name)s” was not added", { max: maxPhotos, name: file.name }));
      else photos.push(file);
    }
    picker.value = ""; // the same file may be chosen again after removing it
    showPhotos();
    if (problems.length) say(message, _("Photos not added: %(problems)s.", { problems: listed(problems) }), "error");
    else message.hidden = true;
  });

  // --- sending ------------------------------------------------------------------------------

  function check() {
    if (form.dataset.point !== "set") return _("Click the place on the map, or use my location, first.");
    if (!form.elements.category.value) return _("Choose the incident category.");
    if (!form.elements.description.value.trim()) return _("Describe the incident.");
    const total = photos.reduce((sum, f) => sum + f.size, 0);
    if (total > maxUploadBytes) return _("The photos add up to more than %(mb)s MB; remove some.", { mb: form.dataset.maxUploadMb });
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
    say(message, _("Uploading…"), "ok");
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
        say(message, _("Sent; opening…"), "ok");
        window.location.assign(answer.page_url || `/incidents/${answer.id}`);
        return;
      }
      submit.disabled = false;
      progress.hidden = true;
      say(message, _("Not sent. %(reason)s", { reason: failed(xhr) }), "error");
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      progress.hidden = true;
      say(message, _("The network connection failed; check it and try again."), "error");
    });
    xhr.send(body());
  });

  showPhotos();
  form.dataset.ready = "true";
})();
