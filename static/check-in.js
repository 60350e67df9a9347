// The door's page: scan tickets with the phone's camera (the browser's BarcodeDetector, else the
// vendored jsQR decoder), send typed tickets through the JSON API without reloading, and keep the
// counts live. Without this script the page's form still checks people in.
(() => {
  "use strict";
  const door = document.querySelector("[data-check-in]");
  if (!door) return;
  const eventId = Number(door.dataset.cityEvent);
  const csrf = door.dataset.csrf;
  const outcome = document.getElementById("door-outcome");
  const present = door.querySelector("[data-present]");
  const expected = door.querySelector("[data-expected]");
  const fill = (text, vars) => text.replace(/\{\{(\w+)\}\}/g, (_, k) => (vars[k] ?? ""));

  const show = (kind, message) => {
    outcome.className = "door-outcome door-" + kind;
    outcome.textContent = message;
  };
  const counts = (c) => {
    if (!c) return;
    present.textContent = c.present;
    expected.textContent = c.expected;
  };

  let busy = false;
  const send = async (token) => {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch("/api/v1/admin/check-in", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept-Language": door.dataset.lang },
        body: JSON.stringify({ token, city_event_id: eventId }),
      });
      const body = await res.json();
      if (res.ok) {
        const a = body.attendee;
        const vars = { name: a.name || door.dataset.tNameToCome, time: a.checked_in_at_local || "", reference: a.booking_reference };
        show(body.already_checked_in ? "already" : "done", fill(body.already_checked_in ? door.dataset.tAlready : door.dataset.tDone, vars));
        counts(body.counts);
        if (navigator.vibrate) navigator.vibrate(body.already_checked_in ? [80, 60, 80] : 120);
      } else {
        show("refused", body.message || body.code);
      }
    } catch (e) {
      show("refused", String(e));
    } finally {
      busy = false;
    }
  };

  // Typed tickets go through the API; names and references keep the form's server-side search.
  const form = door.querySelector("[data-typed]");
  form.addEventListener("submit", (ev) => {
    const q = form.elements.q.value.trim();
    if (q.startsWith("BLT1.")) {
      ev.preventDefault();
      send(q);
      form.elements.q.value = "";
    }
  });

  // Other phones check people in too: follow the counts.
  setInterval(async () => {
    try {
      const res = await fetch("/api/v1/admin/check-in/" + eventId, { credentials: "same-origin" });
      if (res.ok) counts(await res.json());
    } catch (_) { /* offline for a moment: the next poll tries again */ }
  }, 4000);

  // The camera.
  const button = door.querySelector("[data-camera]");
  const video = door.querySelector("[data-video]");
  const canvas = door.querySelector("[data-canvas]");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    show("refused", door.dataset.tNoCamera);
    return;
  }
  button.hidden = false;
  let stream = null;
  let last = { text: "", at: 0 };
  const decoder = async () => {
    if ("BarcodeDetector" in window) {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return async () => (await detector.detect(video)).map((c) => c.rawValue)[0];
    }
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = door.dataset.decoder;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    return async () => {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      if (!canvas.width) return undefined;
      ctx.drawImage(video, 0, 0);
      const found = window.jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      return found ? found.data : undefined;
    };
  };
  const stop = () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
    button.textContent = door.dataset.tCameraOn || button.textContent;
  };
  button.dataset.tCameraOn = button.textContent;
  button.addEventListener("click", async () => {
    if (stream) return stop();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (_) {
      show("refused", door.dataset.tNoCamera);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    button.textContent = door.dataset.tCameraOff;
    show("scanning", door.dataset.tScanning);
    const read = await decoder();
    const tick = async () => {
      if (!stream) return;
      try {
        const text = await read();
        // The same ticket held in front of the camera is one scan, not one per frame.
        if (text && (text !== last.text || Date.now() - last.at > 4000)) {
          last = { text, at: Date.now() };
          await send(text);
        }
      } catch (_) { /* a frame the decoder could not read */ }
      setTimeout(tick, 250);
    };
    tick();
  });
})();
