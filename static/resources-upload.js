// The back office's file upload: the chosen file goes as the request's body to the JSON route
// (streamed and checked there: size, type by its first bytes), then the page reloads its list.
(() => {
  "use strict";
  const form = document.getElementById("resource-file-form");
  if (!form) return;
  form.hidden = false;
  const status = form.querySelector("[data-status]");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = form.elements.file.files[0];
    const title = form.elements.title.value.trim();
    if (!file || !title) return;
    status.textContent = form.dataset.tSending;
    const url = form.dataset.action + "?title=" + encodeURIComponent(title) + "&filename=" + encodeURIComponent(file.name);
    try {
      const res = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": form.dataset.csrf, "Content-Type": file.type || "application/octet-stream" },
        body: file,
      });
      if (res.ok) {
        window.location.reload();
        return;
      }
      const body = await res.json().catch(() => ({}));
      status.textContent = (body.error && body.error.message) || String(res.status);
    } catch (e) {
      status.textContent = String(e);
    }
  });
})();
