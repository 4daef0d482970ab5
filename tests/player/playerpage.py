"""The preview page as the tests drive it: through its `window.vodfleetPlayer` hook, its real pickers, and
measurements of what the browser decoded (frame size and pixels, the dominant audio frequency, active cues)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.preview.server import Address

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--autoplay-policy=no-user-gesture-required")
VIEWPORT = {"width": 1280, "height": 760}
MODES = ("hlsjs-hls", "shaka-dash", "shaka-hls")
REPO = Path(__file__).resolve().parents[2]

STATE_JS = """() => {
  const p = window.vodfleetPlayer;
  if (!p) return {hook: false};
  const v = p.video;
  const ready = p.ready;
  return {mode: p.mode, ready, time: v.currentTime, duration: v.duration, ended: v.ended, paused: v.paused,
    readyState: v.readyState, size: [v.videoWidth, v.videoHeight],
    rendition: ready ? p.currentRendition() : null, auto: ready ? p.isAuto() : null,
    audio: ready ? p.audioLanguage() : null, text: ready ? p.textLanguage() : null,
    errors: p.errors, mediaError: v.error ? {code: v.error.code, message: v.error.message} : null};
}"""

SEEK_JS = """(t) => new Promise((resolve, reject) => {
  const v = vodfleetPlayer.video;
  const timer = setTimeout(() => reject(new Error(`no 'seeked' within 10 s (at ${v.currentTime})`)), 10000);
  v.addEventListener('seeked', () => { clearTimeout(timer); resolve(v.currentTime); }, {once: true});
  v.currentTime = t;
})"""

# Route the element's audio through an AnalyserNode (and on to the speakers, so playback is unchanged).
AUDIO_PROBE_JS = """() => {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  ctx.createMediaElementSource(vodfleetPlayer.video).connect(analyser);
  analyser.connect(ctx.destination);
  window.__dominantHz = () => {
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 1;
    for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return {hz: best * ctx.sampleRate / analyser.fftSize, db: bins[best]};
  };
}"""

# The decoded picture: its size and how much it varies (a black or frozen-blank frame has no variance).
FRAME_JS = """() => {
  const v = vodfleetPlayer.video;
  const canvas = document.createElement('canvas');
  canvas.width = v.videoWidth; canvas.height = v.videoHeight;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  g.drawImage(v, 0, 0);
  const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0, sum = 0, sq = 0;
  for (let i = 0; i < px.length; i += 4 * 7) {
    const y = 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
    n++; sum += y; sq += y * y;
  }
  const mean = sum / n;
  return {width: canvas.width, height: canvas.height, mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)),
          frames: v.getVideoPlaybackQuality().totalVideoFrames};
}"""

CUES_JS = """(lang) => [...vodfleetPlayer.video.textTracks]
  .filter((t) => t.language === lang && t.mode === 'showing')
  .flatMap((t) => [...(t.activeCues || [])].map((c) => ({text: c.text, start: c.startTime, end: c.endTime})))"""


class PlayerPage:
    def __init__(self, page: Page, address: Address) -> None:
        self.page = page
        self.address = address
        self.requests: list[str] = []
        self.page_errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    # --- loading ---------------------------------------------------------------------------------------------

    def open(self, mode: str, *, autoplay: bool = False) -> None:
        self.page.goto(f"{self.address.page}?mode={mode}&autoplay={int(autoplay)}")
        self.wait("() => window.vodfleetPlayer && vodfleetPlayer.ready && vodfleetPlayer.audioLanguages().length > 0"
                  " && vodfleetPlayer.textLanguages().length > 0 && vodfleetPlayer.renditions().length > 0"
                  " && vodfleetPlayer.video.readyState >= 2",
                  timeout=15, what=f"{mode} to load the manifest, list its tracks and decode a first frame")

    # --- reading and waiting ---------------------------------------------------------------------------------

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate(STATE_JS)
        return state

    def wait(self, predicate: str, arg: Any = None, *, timeout: float = 10, what: str = "") -> Any:
        """Poll a JS predicate; on timeout fail with the player's state, not just 'timeout'."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return self.page.wait_for_function(predicate, arg=arg, timeout=timeout * 1000, polling=50).json_value()
        except PlaywrightTimeout:
            raise AssertionError(f"waited {timeout} s for {what or predicate}; player state: {self.state()}; "
                                 f"page errors: {self.page_errors}") from None

    def fatal_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.state()["errors"] if e.get("fatal")]

    # --- playing ---------------------------------------------------------------------------------------------

    def play(self) -> None:
        self.js("() => vodfleetPlayer.video.play()")

    def pause(self) -> None:
        self.js("() => vodfleetPlayer.video.pause()")

    def seek(self, seconds: float) -> float:
        landed: float = self.js(SEEK_JS, seconds)
        return landed

    def wait_playing_past(self, seconds: float, *, timeout: float = 10) -> None:
        self.wait("(t) => vodfleetPlayer.video.currentTime > t && !vodfleetPlayer.video.paused", seconds,
                  timeout=timeout, what=f"playback past {seconds} s")

    # --- measuring what was decoded ----------------------------------------------------------------------------

    def frame(self) -> dict[str, float]:
        frame: dict[str, float] = self.js(FRAME_JS)
        return frame

    def install_audio_probe(self) -> None:
        self.js(AUDIO_PROBE_JS)

    def dominant_hz(self) -> float:
        return float(self.js("() => window.__dominantHz().hz"))

    def wait_dominant_hz(self, hz: float, *, tolerance: float = 15, timeout: float = 8) -> None:
        self.wait("([hz, tol]) => Math.abs(window.__dominantHz().hz - hz) < tol", [hz, tolerance], timeout=timeout,
                  what=f"the decoded audio's dominant frequency to be {hz} Hz")

    def active_cues(self, language: str) -> list[dict[str, Any]]:
        """{text, start, end} of the active cues of the showing text track(s) in `language`."""
        cues: list[dict[str, Any]] = self.js(CUES_JS, language)
        return cues

    def wait_cue_text(self, language: str, text: str, *, what: str, timeout: float = 10) -> list[dict[str, Any]]:
        """Wait until the showing `language` track's active cues are exactly [text].

        Right after a language switch a player may still show the previous track's cue for a moment (Shaka
        clears and refills its text display asynchronously); that is a transition, not a wrong cue. A cue
        that never becomes right, or right text at the wrong time, still fails.
        """
        predicate = (f"([lang, text]) => {{ const c = ({CUES_JS})(lang); "
                     "return c.length === 1 && c[0].text === text ? c : false; }")
        try:
            cues: list[dict[str, Any]] = self.wait(predicate, [language, text], what=what, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; active cues: {self.active_cues(language)}") from None
        return cues

    def wait_text_loaded(self, language: str, *, label: str | None = None, timeout: float = 10) -> None:
        """Wait until the showing `language` track holds a cue, after selecting it and before seeking.

        Shaka 5.2 with segmented DASH text (WebVTT in ISO-BMFF) can stall that text stream for good when a
        seek lands while the switch's first segments are in flight (init + first segment fetched twice,
        then nothing; the same family as shaka-player issues 3499 and 8492). Measured here: it stalled in 3
        of 4 tries without this wait, and in none of the runs with it.
        """
        self.wait("([lang, label]) => [...vodfleetPlayer.video.textTracks].some((t) => t.mode === 'showing' && "
                  "t.language === lang && (label === null || t.label === label) && t.cues && t.cues.length > 0)",
                  [language, label], timeout=timeout, what=f"the {language} text track to load its first cues")

    # --- the real UI -------------------------------------------------------------------------------------------

    def pick(self, select: str, value: str) -> None:
        """Choose an option in one of the page's <select> pickers, as a person would."""
        self.page.select_option(f"#{select}", value=value)

    def option_values(self, select: str) -> dict[str, str]:
        """label → value of a picker's options."""
        options: dict[str, str] = self.js(
            "(id) => Object.fromEntries([...document.getElementById(id).options].map((o) => [o.label, o.value]))",
            select)
        return options

    def screenshot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path))
        return path


def publish_screenshot(path: Path) -> None:
    """docs/preview.png (the README's picture) is refreshed only when asked: VODFLEET_UPDATE_SCREENSHOT=1."""
    if os.environ.get("VODFLEET_UPDATE_SCREENSHOT") == "1":
        target = REPO / "docs" / "preview.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
