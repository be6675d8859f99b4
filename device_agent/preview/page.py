"""The preview page: one self-contained HTML document with its inline style and script.

The script turns a person's clicks, drags, wheel and keys on the picture into the input messages
of :mod:`.messages`, and draws each JPEG frame the server sends. Its limits and its table of
named keys are filled in from Python when this module loads (:data:`SCRIPT`), so the page and
the server cannot disagree about them. The page is served with a strict Content-Security-Policy
that allows only this script and this style, by their hashes (:data:`SCRIPT_HASH`,
:data:`STYLE_HASH`); nothing is fetched from elsewhere.

The page speaks the device's language (the ``preview_*`` messages of :mod:`device_agent.i18n`):
the HTML's own words are filled in, escaped, when :func:`page` builds it, and the words the script
shows later travel as escaped JSON in the body's ``data-texts`` attribute. So the script is the
same for every language and its CSP hash never changes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Mapping
from typing import Final

from .. import i18n
from ..voice import SAMPLE_RATE
from .messages import AUDIO_TAG, MAX_SCROLL_PX, MAX_TEXT, NAMED_KEYS

__all__ = ["SCRIPT", "SCRIPT_HASH", "STYLE", "STYLE_HASH", "WORKLET", "WORKLET_PATH", "page"]

WORKLET_PATH: Final = "/voice-worklet.js"
WORKLET: Final = """
// The customer's microphone, 20 ms at a time, as 16-bit PCM for the device (device_agent/voice.py).
class MaydayMicrophone extends AudioWorkletProcessor {
  constructor() { super(); this.chunk = new Int16Array(960); this.filled = 0; }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      const v = Math.max(-1, Math.min(1, input[i]));
      this.chunk[this.filled++] = v < 0 ? v * 32768 : v * 32767;
      if (this.filled === this.chunk.length) {
        this.port.postMessage(this.chunk.buffer, [this.chunk.buffer]);
        this.chunk = new Int16Array(960);
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor("mayday-microphone", MaydayMicrophone);
"""
"""The AudioWorklet module that records the customer's microphone (served at :data:`WORKLET_PATH`:
a worklet is always loaded by URL, so the page's CSP names this one URL)."""

STYLE: Final = """
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{display:flex;flex-direction:column;overflow:hidden;background:#2f3136;color:#b9bcc2;
  font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
#stage{flex:1 1 auto;min-height:0;display:flex;align-items:center;justify-content:center}
#screen{flex:none;display:block;border:0;padding:0;background:#1b1c1f;border-radius:3px;
  box-shadow:0 10px 30px rgba(0,0,0,.45);touch-action:none;user-select:none;cursor:pointer;
  outline:none;transition:opacity .3s,filter .3s}
body.offline #screen{opacity:.5;filter:grayscale(1)}
#caption{flex:none;display:flex;flex-wrap:wrap;gap:2px 8px;align-items:center;
  justify-content:center;padding:0 16px 12px;text-align:center}
#caption>span{white-space:nowrap;max-width:100%;overflow:hidden;text-overflow:ellipsis}
#caption>span+span::before{content:"\\00b7";margin-right:8px;opacity:.45}
#caption b{color:#e8eaed;font-weight:600}
#dot{display:inline-block;width:8px;height:8px;margin-right:6px;border-radius:50%;
  background:#9aa0a6;vertical-align:1px}
body.live #dot{background:#34a853}
body.offline #dot{background:#ea4335}
#voice{display:inline-flex;gap:8px;align-items:center;justify-content:center;flex-basis:100%}
#caption>#voice::before{content:none}
#voice[hidden]{display:none}
#voice button{font:inherit;color:#e8eaed;background:#3c4043;border:1px solid #5f6368;
  border-radius:16px;padding:4px 12px;cursor:pointer}
#voice button:focus-visible{outline:2px solid #8ab4f8;outline-offset:2px}
#sound.ask{background:#1a73e8;border-color:#1a73e8;font-weight:600}
#mic.on{color:#81c995;font-weight:600}
"""

_SCRIPT_TEMPLATE = """
"use strict";
(() => {
  // Filled in from Python when the page is generated (device_agent/preview/page.py), so the page
  // sends exactly what the server accepts: the limits of messages.py, the keys of signaling/keys.py.
  const MARGIN = 16, DRAG_PX = 6, WHEEL_MS = 50;
  const MAX_TEXT = __MAX_TEXT__, MAX_SCROLL = __MAX_SCROLL__;
  const NAMED = new Set(__NAMED_KEYS__);
  const AUDIO_TAG = __AUDIO_TAG__, RATE = __RATE__, WORKLET_PATH = "__WORKLET_PATH__";
  const body = document.body;
  // The words shown later, in the device's language (page.py's _SCRIPT_TEXTS), as plain text.
  const T = JSON.parse(body.dataset.texts || "{}");
  const stage = document.getElementById("stage");
  const canvas = document.getElementById("screen");
  const statusText = document.getElementById("status");
  const ctx = canvas.getContext("2d", {alpha: false});
  let W = Number(body.dataset.width) || 1, H = Number(body.dataset.height) || 1;
  // For tests and curious people: frames drawn and when (epoch ms), the screen's size.
  const stats = window.__preview = {frames: 0, shownAt: 0, width: W, height: H, live: false};

  function layout() {
    const r = stage.getBoundingClientRect();
    const s = Math.max(0, Math.min((r.width - 2 * MARGIN) / W, (r.height - 2 * MARGIN) / H));
    const w = Math.max(1, Math.floor(W * s));
    canvas.style.width = w + "px";
    canvas.style.height = Math.max(1, Math.round(w * H / W)) + "px";
  }
  new ResizeObserver(layout).observe(stage);
  layout();

  function placeholder(text) {
    ctx.fillStyle = "#1b1c1f";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#9aa0a6";
    ctx.font = Math.round(canvas.height / 24) + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, canvas.width / 2, canvas.height / 2);
  }
  placeholder(T.connecting);

  function setStatus(state, text) {
    body.classList.toggle("live", state === "live");
    body.classList.toggle("offline", state === "offline");
    statusText.textContent = text;
    stats.live = state === "live";
  }

  // ---------------------------------------------------------------- the socket
  let ws = null, retries = 0, received = 0, drawn = 0;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws");
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { retries = 0; setStatus("live", T.live); };
    socket.onmessage = (ev) => {
      if (typeof ev.data === "string") onText(ev.data);
      else if (new Uint8Array(ev.data, 0, 1)[0] === AUDIO_TAG) onVoice(ev.data);
      else onFrame(new Blob([ev.data], {type: "image/jpeg"}));
    };
    socket.addEventListener("open", () => { if (sound.on) send({type: "listen", on: true}); });
    socket.onclose = () => {
      if (ws === socket) ws = null;
      setStatus("offline", T.offline);
      setTimeout(connect, Math.min(5000, 250 * 2 ** retries++));
    };
    ws = socket;
  }

  function onText(text) {
    let msg;
    try { msg = JSON.parse(text); } catch { return; }
    if (msg && msg.type === "voice") { onVoiceState(msg); return; }
    if (msg && msg.type === "hello" && msg.width > 0 && msg.height > 0 &&
        (msg.width !== W || msg.height !== H)) {
      W = stats.width = canvas.width = msg.width;
      H = stats.height = canvas.height = msg.height;
      layout();
    }
  }

  async function onFrame(blob) {
    const seq = ++received;
    let bitmap;
    try { bitmap = await createImageBitmap(blob); } catch { return; }
    if (seq < drawn) { bitmap.close(); return; }  // a newer frame was decoded first
    drawn = seq;
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    stats.frames += 1;
    stats.shownAt = performance.timeOrigin + performance.now();
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  // ---------------------------------------------------------------- voice
  // The agent's voice arrives as 20 ms chunks of 48 kHz PCM once the page listens; a browser
  // plays sound only after a gesture, so the first tap anywhere (or "Tap to hear the agent")
  // turns it on. The customer's microphone opens only while the device says they talk ("Talk"
  // on the tablet) and closes when they tap Mute or the session ends.
  const voiceBox = document.getElementById("voice");
  const soundButton = document.getElementById("sound");
  const micText = document.getElementById("mic");
  const sound = {on: false, off: false, ctx: null, gain: null, next: 0};
  const voice = {session: false, talking: false};
  const mic = {stream: null, node: null, wanted: false};
  Object.assign(stats, {audioChunks: 0, audioLevel: 0, micChunks: 0, micOpen: false, soundOn: false});

  function audioContext() {
    if (!sound.ctx) {
      sound.ctx = new AudioContext({sampleRate: RATE, latencyHint: "interactive"});
      sound.gain = sound.ctx.createGain();
      sound.gain.connect(sound.ctx.destination);
    }
    if (sound.ctx.state === "suspended") sound.ctx.resume().catch(() => {});
    return sound.ctx;
  }

  function setSound(on) {
    sound.on = stats.soundOn = on;
    sound.off = !on;
    if (on) audioContext();
    if (sound.gain) sound.gain.gain.value = on ? 1 : 0;
    send({type: "listen", on});
    renderVoice();
  }

  function onVoice(buffer) {
    if (!sound.on || !sound.ctx) return;
    const pcm = new Int16Array(buffer.slice(1));
    const audio = sound.ctx.createBuffer(1, pcm.length, RATE);
    const out = audio.getChannelData(0);
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) { out[i] = pcm[i] / 32768; sum += out[i] * out[i]; }
    stats.audioChunks += 1;
    stats.audioLevel = Math.sqrt(sum / Math.max(1, pcm.length));
    const now = sound.ctx.currentTime;
    if (sound.next < now + 0.02 || sound.next > now + 0.5) sound.next = now + 0.08;  // re-buffer
    const node = sound.ctx.createBufferSource();
    node.buffer = audio;
    node.connect(sound.gain);
    node.start(sound.next);
    sound.next += audio.duration;
  }

  function onVoiceState(msg) {
    voice.session = Boolean(msg.session);
    voice.talking = Boolean(msg.talking);
    if (voice.talking) openMic(); else closeMic();
    renderVoice();
  }

  async function openMic() {
    if (mic.wanted) return;
    mic.wanted = true;
    try {
      const ctx = audioContext();
      const stream = await navigator.mediaDevices.getUserMedia(
        {audio: {echoCancellation: true, noiseSuppression: true, autoGainControl: true}});
      await ctx.audioWorklet.addModule(WORKLET_PATH);
      if (!mic.wanted) { for (const t of stream.getTracks()) t.stop(); return; }
      const node = new AudioWorkletNode(ctx, "mayday-microphone", {numberOfOutputs: 0});
      node.port.onmessage = (e) => {
        if (!mic.wanted || !ws || ws.readyState !== WebSocket.OPEN) return;
        ws.send(e.data);
        stats.micChunks += 1;
      };
      ctx.createMediaStreamSource(stream).connect(node);
      mic.stream = stream;
      mic.node = node;
      stats.micOpen = true;
    } catch (error) {
      mic.wanted = false;
      const reason = String(error && error.name || error);
      micText.textContent = T.micUnavailable.replace("{error}", () => reason);
      return;
    }
    renderVoice();
  }

  function closeMic() {
    mic.wanted = false;
    if (mic.node) { mic.node.port.onmessage = null; mic.node.disconnect(); mic.node = null; }
    if (mic.stream) { for (const t of mic.stream.getTracks()) t.stop(); mic.stream = null; }
    stats.micOpen = false;
  }

  function renderVoice() {
    voiceBox.hidden = !voice.session;
    soundButton.classList.toggle("ask", !sound.on && !sound.off);
    soundButton.textContent = sound.on ? T.soundOn : sound.off ? T.soundOff : T.soundAsk;
    soundButton.setAttribute("aria-pressed", String(sound.on));
    micText.classList.toggle("on", voice.talking);
    micText.textContent = voice.talking ? "\\u25cf " + T.micOn : T.micOff;
  }
  soundButton.addEventListener("click", () => setSound(!sound.on));
  // Any gesture on the screen is allowed to start sound, unless the person turned it off.
  canvas.addEventListener("pointerdown", () => { if (!sound.on && !sound.off) setSound(true); });
  renderVoice();

  // ---------------------------------------------------------------- pointer
  // The canvas box is exactly the screen (no border or padding; the letterbox bars are the
  // stage around it), so a page point maps to a screen pixel by the box's scale alone.
  function toScreen(e, clamp) {
    const r = canvas.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return null;
    const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
    if (!clamp && (fx < 0 || fx >= 1 || fy < 0 || fy >= 1)) return null;
    return {
      x: Math.min(W - 1, Math.max(0, Math.floor(fx * W))),
      y: Math.min(H - 1, Math.max(0, Math.floor(fy * H))),
    };
  }

  let press = null;
  canvas.addEventListener("pointerdown", (e) => {
    if (press || !e.isPrimary || e.button !== 0) return;
    const at = toScreen(e, false);
    if (!at) return;
    e.preventDefault();
    canvas.focus({preventScroll: true});
    canvas.setPointerCapture(e.pointerId);
    press = {id: e.pointerId, cx: e.clientX, cy: e.clientY, at, moved: false};
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!press || e.pointerId !== press.id || press.moved) return;
    press.moved = Math.hypot(e.clientX - press.cx, e.clientY - press.cy) > DRAG_PX;
  });
  canvas.addEventListener("pointerup", (e) => {
    if (!press || e.pointerId !== press.id) return;
    const start = press.at;
    const moved = press.moved || Math.hypot(e.clientX - press.cx, e.clientY - press.cy) > DRAG_PX;
    press = null;
    if (!moved) { send({type: "tap", x: start.x, y: start.y}); return; }
    const end = toScreen(e, true);
    if (end) send({type: "drag", x0: start.x, y0: start.y, x1: end.x, y1: end.y});
  });
  canvas.addEventListener("pointercancel", (e) => {
    if (press && e.pointerId === press.id) press = null;
  });
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());

  let wheel = null;
  const clampScroll = (v) => Math.max(-MAX_SCROLL, Math.min(MAX_SCROLL, Math.round(v)));
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const at = toScreen(e, true);
    if (!at) return;
    const r = canvas.getBoundingClientRect();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? r.height : 1;
    const k = unit * W / r.width;  // page pixels to screen pixels
    if (!wheel) {
      wheel = {x: at.x, y: at.y, dx: 0, dy: 0};
      setTimeout(() => {
        const w = wheel;
        wheel = null;
        const dx = clampScroll(w.dx), dy = clampScroll(w.dy);
        if (dx || dy) send({type: "scroll", x: w.x, y: w.y, dx, dy});
      }, WHEEL_MS);
    }
    wheel.dx += e.deltaX * k;
    wheel.dy += e.deltaY * k;
  }, {passive: false});

  // ---------------------------------------------------------------- keyboard
  window.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    if ((e.ctrlKey || e.metaKey) && !e.getModifierState("AltGraph")) return;  // browser shortcuts
    if (NAMED.has(e.key)) {
      e.preventDefault();
      send({type: "key", key: e.key});
    } else if ([...e.key].length === 1) {
      e.preventDefault();
      send({type: "text", text: e.key});
    }
  });
  window.addEventListener("paste", (e) => {
    const raw = (e.clipboardData && e.clipboardData.getData("text/plain")) || "";
    const clean = [...raw.replace(/\\s+/g, " ")].filter((c) => c >= " " && c !== "\\x7f");
    e.preventDefault();
    if (clean.length) send({type: "text", text: clean.slice(0, MAX_TEXT).join("")});
  });

  connect();
})();
"""

_BODY = """<!doctype html>
<html lang="__LANG__">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>__PAGE_TITLE__</title>
<style>__STYLE__</style>
</head>
<body data-width="__W__" data-height="__H__" data-texts="__TEXTS__">
<main id="stage"><canvas id="screen" width="__W__" height="__H__" tabindex="0"
 aria-label="__SCREEN_LABEL__"></canvas></main>
<footer id="caption"><span><span id="dot"></span><b>__TITLE__</b></span>
<span>__CAPTION__</span>
<span id="status">__CONNECTING__</span>
<span id="voice" hidden><button id="sound" type="button" aria-pressed="false">__SOUND_ASK__</button>
<span id="mic" role="status">__MIC_OFF__</span></span></footer>
<script>__SCRIPT__</script>
</body>
</html>
"""


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``__NAME__`` in one pass, so nothing inserted is scanned again."""
    return re.sub(r"__([A-Z][A-Z_]*?)__", lambda m: values[m.group(1)], template)


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


SCRIPT: Final = _fill(
    _SCRIPT_TEMPLATE,
    {
        "MAX_TEXT": str(MAX_TEXT),
        "MAX_SCROLL": str(MAX_SCROLL_PX),
        "NAMED_KEYS": json.dumps(sorted(NAMED_KEYS)),
        "AUDIO_TAG": str(AUDIO_TAG),
        "RATE": str(SAMPLE_RATE),
        "WORKLET_PATH": WORKLET_PATH,
    },
)
SCRIPT_HASH: Final = _csp_hash(SCRIPT)
STYLE_HASH: Final = _csp_hash(STYLE)


_SCRIPT_TEXTS: Final = {
    "connecting": "connecting",
    "live": "preview_live",
    "offline": "preview_offline",
    "soundAsk": "preview_sound_ask",
    "soundOn": "preview_sound_on",
    "soundOff": "preview_sound_off",
    "micOn": "preview_mic_on",
    "micOff": "preview_mic_off",
    "micUnavailable": "preview_mic_unavailable",
}
"""The script's names for the words it shows later, and their message keys. A message with a
placeholder keeps it (``{error}``): the script fills it in with the browser's reason."""


def _texts(locale: str | None) -> dict[str, str]:
    """The script's words in the locale's language, placeholders left for the script."""
    return {name: i18n.text(locale, key, error="{error}") for name, key in _SCRIPT_TEXTS.items()}


def page(title: str, width: int, height: int, locale: str | None = None) -> str:
    """The page for a screen of ``width`` × ``height`` pixels, in the language of ``locale``
    (English if unknown), the device's ``title`` and every word HTML-escaped."""
    # Script and style go in verbatim, so their CSP hashes hold; the words are attribute or
    # element text, escaped, never markup or script.
    values = {
        "LANG": html.escape(i18n.language(locale)),
        "PAGE_TITLE": html.escape(i18n.text(locale, "preview_title", title=title)),
        "TITLE": html.escape(title),
        "TEXTS": html.escape(json.dumps(_texts(locale), ensure_ascii=False)),
        "SCREEN_LABEL": html.escape(i18n.text(locale, "preview_screen_label")),
        "CAPTION": html.escape(i18n.text(locale, "preview_caption")),
        "CONNECTING": html.escape(i18n.text(locale, "connecting")),
        "SOUND_ASK": html.escape(i18n.text(locale, "preview_sound_ask")),
        "MIC_OFF": html.escape(i18n.text(locale, "preview_mic_off")),
        "W": str(width),
        "H": str(height),
        "STYLE": STYLE,
        "SCRIPT": SCRIPT,
    }
    return _fill(_BODY, values)
