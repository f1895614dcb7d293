"use strict";
// Enhance web page: plain JS, no build step, nothing from the internet. Every API call goes through api(), which
// adds the API key (kept in localStorage) and turns problem+json errors into plain sentences.

const $ = (id) => document.getElementById(id);
const KEY = "enhance.apiKey";
let chosenFiles = [];
let objectUrls = [];
let running = null; // { cancel(): Promise<void> } while a request or a job runs
let clock = null;

function headers() {
  const key = localStorage.getItem(KEY);
  return key ? { "X-API-Key": key } : {};
}

function plainError(status, body) {
  const detail = body && body.detail ? body.detail : "";
  const words = {
    401: "The API key is missing or not valid. Enter it under “API key”.",
    404: "That was not found" + (detail ? ": " + detail : "."),
    408: "The upload was too slow and the server stopped waiting. Try again on a better connection.",
    413: "The file is too large. " + detail,
    415: detail.includes("/v1/jobs")
      ? "This is a video: it is enhanced as a job (frames, GIF and video)."
      : "This file type is not supported. Use a photo (PNG, JPEG, WebP...) or a video (MP4, MOV, MKV, WebM, AVI).",
    422: "The file or the options could not be used: " + detail,
    503: "The service is busy or not ready: " + detail,
    507: "The server is out of storage for new jobs. Try again later.",
  };
  return words[status] || (status >= 500 ? "The server failed. Try again, or contact the operator." : detail || "Request failed.");
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers(), ...(options.headers || {}) } });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    throw new Error(plainError(response.status, body));
  }
  return response;
}

function blobUrl(blob) {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  return url;
}

async function fetchBlob(path) {
  return (await api(path)).blob();
}

function resetResults() {
  objectUrls.forEach((u) => URL.revokeObjectURL(u));
  objectUrls = [];
  $("viewer").hidden = true;
  $("job-result").hidden = true;
  $("picker").hidden = true;
  $("image-download").hidden = true;
  $("error").hidden = true;
  $("strip").innerHTML = "";
  $("frame-select").innerHTML = "";
  $("artifacts").innerHTML = "";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("message").textContent = "";
}

function isVideo(file) {
  return file.type.startsWith("video/") || /\.(mp4|m4v|mov|mkv|webm|avi)$/i.test(file.name);
}

function isAlbum(files) {
  return files.length > 1 || (files.length === 1 && /\.zip$/i.test(files[0].name));
}

function pickFiles(files) {
  chosenFiles = [...files];
  const album = isAlbum(chosenFiles);
  const kb = Math.round(chosenFiles.reduce((sum, f) => sum + f.size, 0) / 1024);
  const file = chosenFiles[0];
  $("file-name").textContent = !file ? ""
    : album ? `${chosenFiles.length > 1 ? chosenFiles.length + " photos" : file.name} (${kb} KB, album)`
    : `${file.name} (${kb} KB, ${isVideo(file) ? "video" : "image"})`;
  $("video-options").hidden = !(file && !album && isVideo(file)); // frame options mean nothing for a photo
  $("album-options").hidden = !album;
  updateTemporal();
}

function updateTemporal() {
  // A temporal model (BasicVSR, AnimeSR) restores each frame from its neighbours: videos only (a photo is 422).
  const file = chosenFiles[0];
  const photos = Boolean(file) && (isAlbum(chosenFiles) || !isVideo(file));
  const select = $("model");
  for (const option of select.options) {
    const m = modelsById.get(option.value);
    if (m?.temporal) option.disabled = photos || m.weights === "missing" || m.weights === "checksum-failed";
  }
  if (select.selectedOptions[0]?.disabled) {
    const fallback = [...select.options].find((o) => !o.disabled && modelsById.get(o.value)?.default);
    select.value = fallback ? fallback.value : "none";
    updateDenoise();
  }
}

const modelsById = new Map();

async function loadModels() {
  const select = $("model");
  try {
    const models = (await (await api("/v1/models")).json()).data;
    const chosen = select.value; // a reload (a new API key, a second load) keeps what the user picked
    const keep = models.some((m) => m.id === chosen && !(m.denoise > 0)) ? chosen : null;
    select.innerHTML = "";
    modelsById.clear();
    // A denoise variant is reached through the Denoise menu of its level-0 model, not listed on its own.
    for (const m of models.filter((m) => m.task === "upscale" && !(m.denoise > 0))) {
      modelsById.set(m.id, m);
      const video = m.temporal ? "video only: reads neighbouring frames" : "";
      const about = [`×${m.scale}`, m.speed, (m.good_for || []).join(", "), video].filter(Boolean).join("; ");
      const state = m.weights === "present" ? "" : ", " + m.weights;
      const option = new Option(`${m.id} (${about}${state})`, m.id);
      option.disabled = m.weights === "missing" || m.weights === "checksum-failed";
      option.selected = keep ? m.id === keep : m.default && chosen !== "none";
      select.add(option);
    }
    select.add(new Option("none (light, denoise or deblur only)", "none", false, chosen === "none"));
    updateTemporal();
  } catch (err) {
    select.innerHTML = "";
    select.add(new Option("default model", ""));
    showError(err.message);
  }
  updateDenoise();
}

function updateDenoise() {
  // Real-CUGAN and waifu2x come in denoise levels; other models have none, so the menu is off for them.
  const select = $("denoise");
  const chosen = select.value;
  const levels = Object.keys(modelsById.get($("model").value)?.denoise_levels || {});
  select.innerHTML = "";
  select.add(new Option(levels.length ? "0 (none)" : "not for this model", ""));
  for (const level of levels.filter((l) => l !== "0")) select.add(new Option(`${level} of 3`, level, false, level === chosen));
  select.disabled = levels.length === 0;
}

// ---- Running work: elapsed time, progress, cancel ----

function startRunning(label, cancel) {
  const started = performance.now();
  running = { cancel };
  $("cancel").hidden = false;
  $("elapsed").hidden = false;
  $("progress").hidden = false;
  $("progress").removeAttribute("value"); // indeterminate until a job reports frames
  const tick = () => { $("elapsed").textContent = `${label} ${((performance.now() - started) / 1000).toFixed(1)} s`; };
  tick();
  clock = setInterval(tick, 200);
  return started;
}

function stopRunning() {
  clearInterval(clock);
  running = null;
  $("cancel").hidden = true;
  $("elapsed").hidden = true;
  $("progress").hidden = true;
}

// ---- The before/after viewer: fit by default, zoom around the pointer, pan both sides together ----

const view = { z: 1, tx: 0, ty: 0, w: 0, h: 0, split: 50 };
const MIN_ZOOM = 0.02, MAX_ZOOM = 16;

function stageSize() {
  const stage = $("stage");
  return { sw: stage.clientWidth, sh: stage.clientHeight };
}

function clampPan() {
  const { sw, sh } = stageSize();
  const iw = view.w * view.z, ih = view.h * view.z;
  view.tx = iw <= sw ? (sw - iw) / 2 : Math.min(0, Math.max(sw - iw, view.tx));
  view.ty = ih <= sh ? (sh - ih) / 2 : Math.min(0, Math.max(sh - ih, view.ty));
}

function render() {
  clampPan();
  $("layer").style.transform = `translate(${view.tx}px, ${view.ty}px) scale(${view.z})`;
  const { sw } = stageSize();
  const splitX = (sw * view.split) / 100; // in stage pixels
  const inLayer = Math.max(0, Math.min(view.w, (splitX - view.tx) / view.z));
  $("before").style.clipPath = `inset(0 ${view.w - inLayer}px 0 0)`;
  $("divider").style.left = `${splitX}px`;
  $("zoom-level").textContent = `${Math.round(view.z * 100)}%`;
  $("slider").setAttribute("aria-valuetext", `${view.split}% bicubic, ${100 - view.split}% enhanced`);
}

function fit() {
  const { sw, sh } = stageSize();
  view.z = Math.min(sw / view.w, sh / view.h, MAX_ZOOM);
  view.tx = (sw - view.w * view.z) / 2;
  view.ty = (sh - view.h * view.z) / 2;
  render();
}

function zoomAt(factor, px, py) {
  const { sw, sh } = stageSize();
  const x = px ?? sw / 2, y = py ?? sh / 2;
  const z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.z * factor));
  view.tx = x - ((x - view.tx) * z) / view.z;
  view.ty = y - ((y - view.ty) * z) / view.z;
  view.z = z;
  render();
}

function sizeStage() {
  // As tall as the picture needs at the stage's width, but never taller than 70 % of the window.
  const stage = $("stage");
  const width = stage.clientWidth || stage.parentElement.clientWidth;
  stage.style.height = `${Math.round(Math.min(window.innerHeight * 0.7, (width * view.h) / view.w, 900))}px`;
}

async function showPair(sourceBlob, enhancedBlob) {
  const after = $("after");
  after.src = blobUrl(enhancedBlob);
  await after.decode();
  const source = await createImageBitmap(sourceBlob);
  const canvas = $("before");
  canvas.width = after.naturalWidth;
  canvas.height = after.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high"; // the browser's bicubic-class filter: the "before" a plain resize gives
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  view.w = after.naturalWidth;
  view.h = after.naturalHeight;
  $("viewer").hidden = false;
  sizeStage();
  fit();
}

function initViewer() {
  const stage = $("stage");
  $("slider").addEventListener("input", () => { view.split = Number($("slider").value); render(); });
  $("zoom-in").addEventListener("click", () => zoomAt(1.25));
  $("zoom-out").addEventListener("click", () => zoomAt(0.8));
  $("zoom-fit").addEventListener("click", fit);
  $("zoom-actual").addEventListener("click", () => zoomAt(1 / view.z));
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const box = stage.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY / 500), e.clientX - box.left, e.clientY - box.top);
  }, { passive: false });
  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, tx: view.tx, ty: view.ty };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drag) return;
    view.tx = drag.tx + e.clientX - drag.x;
    view.ty = drag.ty + e.clientY - drag.y;
    render();
  });
  stage.addEventListener("pointerup", () => { drag = null; });
  stage.addEventListener("keydown", (e) => {
    const pan = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] }[e.key];
    if (pan) { view.tx += pan[0]; view.ty += pan[1]; render(); }
    else if (e.key === "+" || e.key === "=") zoomAt(1.25);
    else if (e.key === "-") zoomAt(0.8);
    else if (e.key === "0") fit();
    else if (e.key === "1") zoomAt(1 / view.z);
    else return;
    e.preventDefault();
  });
  window.addEventListener("resize", () => { if (!$("viewer").hidden) { sizeStage(); fit(); } });
}

// ---- Images: straight through POST /v1/images/enhance ----

async function enhanceImage(file) {
  const params = new URLSearchParams();
  if ($("model").value) params.set("model", $("model").value);
  if ($("scale").value) params.set("scale", $("scale").value);
  if ($("denoise").value) params.set("denoise", $("denoise").value);
  params.set("light", $("light").value);
  params.set("denoise_photo", $("denoise_photo").value);
  params.set("deblur", $("deblur").value);
  const form = new FormData();
  form.append("file", file);
  const abort = new AbortController();
  $("message").textContent = "Enhancing…";
  startRunning("Enhancing", async () => abort.abort()); // the server stops at its next model call
  let response;
  try {
    response = await api("/v1/images/enhance?" + params, { method: "POST", body: form, signal: abort.signal });
  } catch (err) {
    if (abort.signal.aborted) { $("message").textContent = "Cancelled."; return; }
    throw err;
  } finally {
    stopRunning();
  }
  const blob = await response.blob();
  const deblurred = response.headers.get("x-enhance-deblurred") === "true" ? ", deblurred" : "";
  $("viewer-title").textContent = `Before / after: ${file.name}`;
  await showPair(file, blob);
  $("download-image").href = $("after").src;
  $("image-download").hidden = false;
  $("message").textContent = `Done in ${Math.round(Number(response.headers.get("x-processing-time-ms")))} ms with ${response.headers.get("x-enhance-model")}${deblurred}: ${response.headers.get("x-enhance-size")}.`;
}

// ---- Jobs: videos (and photos sent as jobs from the recent list) ----

function jobForm(files) {
  const form = new FormData();
  for (const file of files) form.append("file", file);
  const file = files[0];
  if (isAlbum(files)) {
    for (const name of ["model", "scale", "denoise", "light", "denoise_photo", "deblur", "keep", "duplicates"]) if ($(name).value) form.append(name, $(name).value);
    if ($("album_best").value.trim()) form.append("select_best", $("album_best").value.trim());
    return form;
  }
  for (const name of ["model", "scale", "denoise", "light", "denoise_photo", "deblur", "frames", "start", "end", "every_n", "select_best"]) {
    const value = $(name).value.trim();
    if (value) form.append(name, value);
  }
  const outputs = ["out-frames", "out-gif", "out-video"].filter((id) => $(id).checked).map((id) => $(id).value);
  if (!isVideo(file)) outputs.splice(outputs.indexOf("video") >>> 0, outputs.includes("video") ? 1 : 0);
  // Interpolation makes the enhanced video's frames: asked for, it brings the video output with it.
  if (isVideo(file) && $("interpolate").value) {
    form.append("interpolate", $("interpolate").value);
    if (!outputs.includes("video")) outputs.push("video");
  }
  form.append("outputs", outputs.join(",") || "frames");
  return form;
}

function showProgress(job) {
  const p = job.progress;
  if (p.total) { $("progress").max = p.total; $("progress").value = p.done; }
  const eta = p.eta_seconds ? `, about ${Math.ceil(p.eta_seconds)} s left` : "";
  $("message").textContent = `${job.status}: ${p.done}${p.total ? " of " + p.total : ""} frames${eta}`;
}

async function follow(jobId) {
  // EventSource cannot send an API key header, so the SSE stream is read with fetch.
  const response = await api(`/v1/jobs/${jobId}/events`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").find((line) => line.startsWith("data: "));
      if (block.startsWith("event: progress") && data) showProgress(JSON.parse(data.slice(6)));
    }
  }
  return (await api(`/v1/jobs/${jobId}`)).json();
}

let unit = "frame"; // "photo" for an album

async function compareFrame(frame, frames) {
  const [source, enhanced] = await Promise.all([fetchBlob(frame.source_url), fetchBlob(frame.enhanced_url)]);
  const time = frame.time != null ? ` at ${frame.time.toFixed(2)} s` : "";
  $("viewer-title").textContent = `Before / after: ${unit} ${frame.index}${time}`;
  $("frame-select").value = String(frame.index);
  for (const button of $("strip").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.index === String(frame.index)));
  }
  await showPair(source, enhanced);
}

// What one unit of a job's work is called: a photo for an album, a frame for the other kinds.
const UNIT_OF_KIND = { album: "photo" };
const unitOf = (job) => UNIT_OF_KIND[job.kind] || "frame";

async function showFrames(job) {
  const frames = await (await api(`/v1/jobs/${job.id}/frames`)).json();
  if (!frames.length) return;
  unit = unitOf(job);
  $("unit-label").textContent = unit;
  const select = $("frame-select");
  for (const frame of frames) {
    const time = frame.time != null ? ` (${frame.time.toFixed(2)} s)` : "";
    select.add(new Option(`${unit} ${frame.index}${time}`, String(frame.index)));
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.index = String(frame.index);
    button.setAttribute("aria-label", `Compare ${unit} ${frame.index}`);
    const img = document.createElement("img");
    img.alt = "";
    img.src = blobUrl(await fetchBlob(`${frame.thumbnail_url}?size=120`));
    button.append(img);
    button.addEventListener("click", () => compareFrame(frame, frames).catch((e) => showError(e.message)));
    $("strip").append(button);
  }
  select.onchange = () => compareFrame(frames.find((f) => String(f.index) === select.value), frames).catch((e) => showError(e.message));
  $("picker").hidden = frames.length < 2;
  await compareFrame(frames[0], frames);
}

function artifactLink(artifact) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = artifact.signed_url || artifact.url; // a real URL: opens in a tab, can be copied
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = `${artifact.name} (${Math.max(1, Math.round(artifact.size / 1024))} KB)`;
  const download = document.createElement("a");
  download.href = link.href;
  download.download = artifact.name;
  download.textContent = "download";
  download.className = "copy";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "secondary copy";
  copy.textContent = "Copy link";
  copy.setAttribute("aria-label", `Copy the link to ${artifact.name}`);
  copy.addEventListener("click", async () => {
    const url = new URL(link.href, location.href).href;
    try { await navigator.clipboard.writeText(url); copy.textContent = "Copied"; }
    catch (_) { window.prompt("Copy this link", url); }
  });
  li.append(link, download, copy);
  return li;
}

async function showJob(job) {
  resetResults();
  if (job.status !== "succeeded" && !job.artifacts.length) {
    showError(job.status === "failed" ? `The job failed: ${job.error}` : `The job is ${job.status}.`);
    return;
  }
  if (job.status === "failed") showError(`The job failed part-way: ${job.error}`);
  else $("message").textContent = `Job ${job.id.slice(0, 8)} finished: ${job.progress.done} ${unitOf(job)}(s) enhanced.`;
  const byName = Object.fromEntries(job.artifacts.map((a) => [a.name, a]));
  const sheet = byName["contact_sheet.jpg"];
  $("contact-sheet").hidden = !sheet;
  if (sheet) $("contact-sheet").src = sheet.signed_url || sheet.url;
  const gif = byName["comparison.gif"];
  $("gif").hidden = !gif;
  if (gif) $("gif").src = gif.signed_url || gif.url;
  const video = job.artifacts.find((a) => a.name.startsWith("enhanced.")); // mp4, or the job's container
  $("player").hidden = !video;
  if (video) $("player").src = video.signed_url || video.url; // streamed with range requests
  const signed = job.artifacts.some((a) => a.signed_url);
  $("links-note").textContent = signed
    ? "These links open without the API key for an hour (signed), so they work in a new tab or shared."
    : "";
  for (const artifact of job.artifacts) $("artifacts").append(artifactLink(artifact));
  $("job-result").hidden = false;
  await showFrames(job);
}

async function runJob(files) {
  $("message").textContent = "Uploading…";
  let jobId = null;
  startRunning("Running", async () => { if (jobId) await api(`/v1/jobs/${jobId}/cancel`, { method: "POST" }); });
  try {
    const job = await (await api("/v1/jobs", { method: "POST", body: jobForm(files) })).json();
    jobId = job.id;
    showProgress(job);
    const finished = await follow(job.id);
    stopRunning();
    await showJob(finished);
  } finally {
    stopRunning();
  }
  loadRecent();
}

async function loadRecent() {
  const list = $("recent");
  try {
    const jobs = (await (await api("/v1/jobs?limit=10")).json()).data;
    list.innerHTML = "";
    for (const job of jobs) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "linkish secondary";
      button.textContent = `${job.input_name} — ${job.status} (${new Date(job.created_at).toLocaleString()})`;
      button.addEventListener("click", async () => showJob((await (await api(`/v1/jobs/${job.id}`)).json())).catch((e) => showError(e.message)));
      li.append(button);
      list.append(li);
    }
    if (!jobs.length) list.innerHTML = "<li>No jobs yet.</li>";
  } catch (err) {
    list.innerHTML = "";
  }
}

function init() {
  $("api-key").value = localStorage.getItem(KEY) || "";
  $("api-key").addEventListener("change", () => {
    localStorage.setItem(KEY, $("api-key").value.trim());
    loadModels();
    loadRecent();
  });
  $("file").addEventListener("change", () => pickFiles($("file").files));
  $("model").addEventListener("change", updateDenoise);
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) pickFiles(e.dataTransfer.files);
  });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); } });
  initViewer();
  $("cancel").addEventListener("click", async () => {
    if (!running) return;
    $("cancel").disabled = true;
    try { await running.cancel(); } catch (err) { showError(err.message); } finally { $("cancel").disabled = false; }
  });
  $("refresh").addEventListener("click", loadRecent);
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    resetResults();
    if (!chosenFiles.length) { showError("Choose an image, a video or photos first."); return; }
    $("go").disabled = true;
    try {
      if (isAlbum(chosenFiles) || isVideo(chosenFiles[0])) await runJob(chosenFiles);
      else await enhanceImage(chosenFiles[0]);
    } catch (err) {
      showError(err.message);
    } finally {
      $("go").disabled = false;
    }
  });
  loadModels();
  loadRecent();
}

init();
