// The digits page: loads the classifier bundle with loadProgram (dlc/runtime, from the repository's
// dist/), classifies a digit drawn on the pad (cropped to its ink, scaled into a square, averaged
// down to 8×8 like the data set) or a validation image from data/digits, and shows the ten
// probabilities. No bundler, no inline script: it runs under `dlc serve`'s strict CSP.
//
// Query parameters: backend=auto|js|webgpu (default auto), model=URL of the bundle (default model/),
// data=URL of the directory with val_x.npy and val_y.npy (default ../../data/digits/).
import { loadProgram } from '../../dist/runtime/index.js';

const params = new URLSearchParams(location.search);
const backend = params.get('backend') ?? 'auto';
const modelUrl = new URL(params.get('model') ?? 'model/', location.href);
const dataUrl = new URL(params.get('data') ?? '../../data/digits/', location.href);

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
};

/** A .npy file (little-endian float32 or int32, C order) as { shape, data }. */
async function npy(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot load ${url}: HTTP ${r.status}`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  const view = new DataView(bytes.buffer);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error(`${url} is not a .npy file`);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').filter((s) => s.trim()).map(Number);
  const body = bytes.slice(start + headerLen).buffer;
  if (descr === '<f4') return { shape, data: new Float32Array(body) };
  if (descr === '<i4') return { shape, data: new Int32Array(body) };
  throw new Error(`${url}: dtype ${descr} is not read here`);
}

/** The 64 pixel values (0..1) of the pad's ink: cropped to its bounding box, centred in a square, 8×8 block means. */
function padPixels(pad) {
  const ctx = pad.getContext('2d');
  const { width: w, height: h } = pad;
  const img = ctx.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (img[(y * w + x) * 4] > 32) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return undefined;
  // The data set's digits fill their 32×32 box: scale the ink's box into 32×32, keeping its aspect.
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const small = document.createElement('canvas');
  small.width = small.height = 32;
  const s = small.getContext('2d');
  s.fillStyle = '#000';
  s.fillRect(0, 0, 32, 32);
  const cx = (x0 + x1 + 1) / 2, cy = (y0 + y1 + 1) / 2;
  s.drawImage(pad, cx - side / 2, cy - side / 2, side, side, 0, 0, 32, 32);
  const px = s.getImageData(0, 0, 32, 32).data;
  const out = new Float32Array(64);
  for (let by = 0; by < 8; by++) {
    for (let bx = 0; bx < 8; bx++) {
      let sum = 0;
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) sum += px[((by * 4 + y) * 32 + bx * 4 + x) * 4] > 96 ? 1 : 0;
      out[by * 8 + bx] = sum / 16;
    }
  }
  return out;
}

function showSeen(pixels) {
  const c = $('seen').getContext('2d');
  const cell = $('seen').width / 8;
  for (let i = 0; i < 64; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
    c.fillStyle = `rgb(${v}, ${v}, ${v})`;
    c.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
  }
}

function softmax(logits) {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function showProbs(probs) {
  const best = probs.indexOf(Math.max(...probs));
  $('prediction').textContent = String(best);
  const list = $('probs');
  list.replaceChildren(
    ...probs.map((p, k) => {
      const li = document.createElement('li');
      li.className = k === best ? 'best' : '';
      li.dataset.digit = String(k);
      li.dataset.p = String(p);
      const d = document.createElement('span');
      d.className = 'digit';
      d.textContent = String(k);
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${(12 * p).toFixed(2)}rem`;
      const t = document.createElement('span');
      t.className = 'p';
      t.textContent = `${(100 * p).toFixed(1)}%`;
      li.append(d, bar, t);
      return li;
    }),
  );
  return best;
}

let program;
let val;

/** Classifies 64 pixel values; shows and returns { digit, probs }. */
async function classify(pixels) {
  showSeen(pixels);
  const input = program.inputs[0];
  const out = await program.run({ [input.name]: pixels });
  const probs = softmax(Array.from(out[program.outputs[0].name]));
  const digit = showProbs(probs);
  document.body.dataset.state = 'classified';
  return { digit, probs, backend: program.backend };
}

async function classifyValidation(i) {
  const n = val.x.shape[0];
  if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`pick an image 0..${n - 1}`);
  const label = val.y.data[i];
  $('truth').textContent = `Image #${i} is a ${label}.`;
  return { ...(await classify(val.x.data.slice(i * 64, (i + 1) * 64))), label };
}

function setUpPad() {
  const pad = $('pad');
  const ctx = pad.getContext('2d');
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let last;
  const point = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    pad.setPointerCapture(e.pointerId);
    last = point(e);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = point(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = undefined;
    const pixels = padPixels(pad);
    if (pixels) classify(pixels).catch((e) => status(String(e.message ?? e), true));
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', clear);
}

async function start() {
  try {
    const [p, x, y] = await Promise.all([loadProgram(modelUrl.href, { backend }), npy(new URL('val_x.npy', dataUrl)), npy(new URL('val_y.npy', dataUrl))]);
    program = p;
    val = { x, y };
    $('pick').max = String(x.shape[0] - 1);
    $('backend').textContent = program.backend === 'webgpu' ? 'WebGPU' : 'JavaScript';
    status(`Model ${program.name} loaded (${program.backend}): draw a digit, or pick one of the ${x.shape[0]} validation images.`);
    setUpPad();
    $('classify-pick').addEventListener('click', () => classifyValidation(Number($('pick').value)).catch((e) => status(String(e.message ?? e), true)));
    document.body.dataset.backend = program.backend;
    document.body.dataset.state = 'ready';
  } catch (e) {
    status(`${e.name ?? 'Error'}: ${e.message ?? e}\n(build the model first: see examples/README.md, "The digits in a web page")`, true);
    document.body.dataset.state = 'error';
  }
}

// For tests and the console: the loaded program and the two ways to classify.
window.dlcDigits = { classifyValidation, classify, get program() { return program; } };
start();
