/* The staff exit check: read the exit QR with the device's camera, where the browser can.
 *
 * The page works without this file: staff type or paste the code (a USB or Bluetooth scanner
 * that types counts as typing). Where the browser offers the BarcodeDetector API with QR codes
 * (Chrome on Android, for example), a "Scan with camera" button appears; the first code seen
 * fills the box and the form is sent. No library is loaded: where the API is missing, the
 * button stays hidden.
 */
(() => {
  "use strict";

  const SCAN_EVERY_MS = 200;
  const CAMERA_FAILED = "The camera could not be opened. Type the code instead.";

  const form = document.querySelector("[data-exit-form]");
  const startButton = document.querySelector("[data-exit-camera-start]");
  const panel = document.querySelector("[data-exit-camera]");
  if (!form || !startButton || !panel) return;
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;

  const input = form.querySelector("input[name=code]");
  const status = form.querySelector("[data-exit-camera-status]");
  const video = panel.querySelector("video");
  const stopButton = panel.querySelector("[data-exit-camera-stop]");
  let detector = null;
  let stream = null;
  let timer = null;

  async function readsQrCodes() {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code");
    } catch {
      return false;
    }
  }

  function stop() {
    window.clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    panel.hidden = true;
    startButton.hidden = false;
  }

  function send(text) {
    input.value = text;
    stop();
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }

  async function look() {
    if (!stream) return;
    try {
      const found = (await detector.detect(video)).find((code) => code.rawValue);
      if (found) {
        send(found.rawValue);
        return;
      }
    } catch {
      // The video has no frame yet: look again shortly.
    }
    timer = window.setTimeout(look, SCAN_EVERY_MS);
  }

  async function start() {
    status.textContent = "";
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
    } catch {
      stop();
      status.textContent = CAMERA_FAILED;
      input.focus();
      return;
    }
    panel.hidden = false;
    startButton.hidden = true;
    look();
  }

  readsQrCodes().then((supported) => {
    if (!supported) return;
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    startButton.hidden = false;
    startButton.addEventListener("click", start);
    stopButton.addEventListener("click", () => {
      stop();
      input.focus();
    });
  });
})();
