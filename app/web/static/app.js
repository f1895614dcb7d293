"use strict";
// Enhance web page: plain JS, no build step, nothing from the internet. Every API call goes through api(), which
// adds the API key (kept in localStorage) and turns problem+json errors into plain sentences.

const $ = (id) => document.getElementById(id);
const KEY = "enhance.apiKey";
let chosenFile = null;
let objectUrls = [];

function headers() {
  const key = localStorage.getItem(KEY);
  return key ? { "X-API-Key": key } : {};
}

function plainError(status, body) {
  const detail = body && body.detail ? body.detail : "";
  const words = {
    401: "The API key is missing or not valid. Enter it under “API key”.",
    404: "That was not found" + (detail ? ": " + detail : "."),
    413: "The file is too large. " + detail,
    415: "This file type is not supported. Use a photo (PNG, JPEG, WebP...) or a video (MP4, MOV, MKV, WebM, AVI).",
    422: "The file or the options could not be used: " + detail,
    503: "The service is not ready: " + detail,
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

function resetResults() {
  objectUrls.forEach((u) => URL.revokeObjectURL(u));
  objectUrls = [];
  $("image-result").hidden = true;
  $("job-result").hidden = true;
  $("error").hidden = true;
  $("progress").hidden = true;
  $("strip").innerHTML = "";
  $("artifacts").innerHTML = "";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("message").textContent = "";
}

function isVideo(file) {
  return file.type.startsWith("video/") || /\.(mp4|mov|mkv|webm|avi)$/i.test(file.name);
}

function pickFile(file) {
  chosenFile = file;
  $("file-name").textContent = file ? `${file.name} (${Math.round(file.size / 1024)} KB, ${isVideo(file) ? "video" : "image"})` : "";
}

async function loadModels() {
  const select = $("model");
  try {
    const models = (await (await api("/v1/models")).json()).data;
    select.innerHTML = "";
    for (const m of models.filter((m) => m.task === "upscale")) {
      const option = new Option(`${m.id} (×${m.scale}${m.weights === "present" ? "" : ", " + m.weights})`, m.id);
      option.disabled = m.weights === "missing" || m.weights === "checksum-failed";
      option.selected = m.default;
      select.add(option);
    }
    select.add(new Option("none (deblur only)", "none"));
  } catch (err) {
    select.innerHTML = "";
    select.add(new Option("default model", ""));
    showError(err.message);
  }
}

function setSplit(percent) {
  $("before-clip").style.width = percent + "%";
  $("divider").style.left = percent + "%";
  $("slider").setAttribute("aria-valuetext", `${percent}% bicubic, ${100 - percent}% enhanced`);
}

async function showImage(file, blob) {
  const after = $("after");
  after.src = blobUrl(blob);
  await after.decode();
  const source = await createImageBitmap(file);
  const canvas = $("before");
  canvas.width = after.naturalWidth;
  canvas.height = after.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high"; // the browser's bicubic-class filter: the "before" a plain resize gives
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  $("download-image").href = after.src;
  $("image-result").hidden = false;
  setSplit(Number($("slider").value));
}

async function enhanceImage(file) {
  const params = new URLSearchParams();
  if ($("model").value) params.set("model", $("model").value);
  if ($("scale").value) params.set("scale", $("scale").value);
  params.set("deblur", $("deblur").value);
  const form = new FormData();
  form.append("file", file);
  $("message").textContent = "Enhancing…";
  const response = await api("/v1/images/enhance?" + params, { method: "POST", body: form });
  const blob = await response.blob();
  const deblurred = response.headers.get("x-enhance-deblurred") === "true" ? ", deblurred" : "";
  await showImage(file, blob);
  $("message").textContent = `Done in ${Math.round(Number(response.headers.get("x-processing-time-ms")))} ms with ${response.headers.get("x-enhance-model")}${deblurred}.`;
}

function jobForm(file) {
  const form = new FormData();
  form.append("file", file);
  for (const name of ["model", "scale", "deblur", "frames", "start", "end", "every_n", "select_best"]) {
    const value = $(name).value.trim();
    if (value) form.append(name, value);
  }
  const outputs = ["out-frames", "out-gif", "out-video"].filter((id) => $(id).checked).map((id) => $(id).value);
  if (!isVideo(file)) outputs.splice(outputs.indexOf("video") >>> 0, outputs.includes("video") ? 1 : 0);
  form.append("outputs", outputs.join(",") || "frames");
  return form;
}

function showProgress(job) {
  const p = job.progress;
  $("progress").hidden = false;
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

async function fetchArtifact(artifact) {
  return blobUrl(await (await api(artifact.url)).blob());
}

async function showJob(job) {
  resetResults();
  if (job.status !== "succeeded") {
    showError(job.status === "failed" ? `The job failed: ${job.error}` : `The job is ${job.status}.`);
    return;
  }
  $("message").textContent = `Job ${job.id.slice(0, 8)} finished: ${job.progress.done} frame(s).`;
  const byName = Object.fromEntries(job.artifacts.map((a) => [a.name, a]));
  if (byName["comparison.gif"]) { $("gif").src = await fetchArtifact(byName["comparison.gif"]); $("gif").hidden = false; }
  else $("gif").hidden = true;
  if (byName["enhanced.mp4"]) { $("player").src = await fetchArtifact(byName["enhanced.mp4"]); $("player").hidden = false; }
  else $("player").hidden = true;
  for (const artifact of job.artifacts.filter((a) => a.name.startsWith("frame_")).slice(0, 24)) {
    const img = document.createElement("img");
    img.alt = `Enhanced ${artifact.name.replace(".png", "").replace("_", " ")}`;
    img.src = await fetchArtifact(artifact);
    $("strip").append(img);
  }
  for (const artifact of job.artifacts) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#";
    link.textContent = `${artifact.name} (${Math.max(1, Math.round(artifact.size / 1024))} KB)`;
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const a = document.createElement("a");
      a.href = await fetchArtifact(artifact);
      a.download = artifact.name;
      a.click();
    });
    li.append(link);
    $("artifacts").append(li);
  }
  $("job-result").hidden = false;
}

async function runJob(file) {
  $("message").textContent = "Uploading…";
  const job = await (await api("/v1/jobs", { method: "POST", body: jobForm(file) })).json();
  showProgress(job);
  await showJob(await follow(job.id));
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
      button.className = "linkish";
      button.textContent = `${job.input_name} — ${job.status} (${new Date(job.created_at).toLocaleString()})`;
      button.addEventListener("click", async () => showJob((await (await api(`/v1/jobs/${job.id}`)).json())));
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
  $("file").addEventListener("change", () => pickFile($("file").files[0] || null));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) pickFile(e.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); } });
  $("slider").addEventListener("input", () => setSplit(Number($("slider").value)));
  $("zoom").addEventListener("input", () => { $("viewport").style.transform = `scale(${$("zoom").value})`; });
  $("refresh").addEventListener("click", loadRecent);
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    resetResults();
    if (!chosenFile) { showError("Choose an image or a video first."); return; }
    $("go").disabled = true;
    try {
      if (isVideo(chosenFile)) await runJob(chosenFile);
      else await enhanceImage(chosenFile);
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
