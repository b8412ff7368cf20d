// A reconstruction site's page: the progress report form, its photos checked in the browser
// first and sent as one multipart upload with a progress bar.  The server checks everything again.
(function () {
  "use strict";

  const form = document.getElementById("progress-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const message = document.getElementById("progress-message");
  const submit = document.getElementById("btn-progress");

  function show(text) {
    message.textContent = text;
    message.hidden = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const files = form.elements.photos.files;
    const maxPhotos = Number(form.dataset.maxPhotos);
    const maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;
    if (files.length > maxPhotos) {
      show(_("At most %(n)s photos.", { n: maxPhotos }));
      return;
    }
    for (const f of files) {
      if (f.size > maxBytes) {
        show(_("Photo %(name)s is over %(mb)s MB.", { name: f.name, mb: form.dataset.maxMb }));
        return;
      }
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.url);
    xhr.setRequestHeader("X-CSRFToken", form.dataset.csrf);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) {
        window.location.reload();
        return;
      }
      let text = _("Sending failed (%(status)s)", { status: xhr.status });
      try {
        text = JSON.parse(xhr.responseText).error.message;
      } catch (ignored) {
        // not JSON: keep the status
      }
      bar.hidden = true;
      submit.disabled = false;
      show(text);
    });
    xhr.addEventListener("error", () => {
      bar.hidden = true;
      submit.disabled = false;
      show(_("Network error; please try again."));
    });
    bar.value = 0;
    bar.hidden = false;
    message.hidden = true;
    submit.disabled = true;
    xhr.send(new FormData(form));
  });
})();
