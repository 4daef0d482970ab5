// Storyboard thumbnails on the preview page: reads thumbnails/thumbnails.vtt (cues `sprite_0001.jpg#xywh=x,y,w,h`,
// W3C Media Fragments) and shows the tile for the hovered time over the page's timeline bar.
//
// window.vodfleetThumbnails:
//   .parse(text, vttUrl)      [{start, end, url, x, y, w, h}]   (url resolved against the .vtt's URL)
//   .at(cues, seconds)        the cue showing at that time, or null
//   .attach(bar, opts)        wire a timeline bar: opts {cues, duration(), seek(t), currentTime()}
'use strict';

(() => {
  const TIME = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/;
  const seconds = (text) => {
    const m = TIME.exec(text.trim());
    if (!m) throw new Error(`not a WebVTT timestamp: ${text}`);
    return (Number(m[1] || 0) * 3600) + (Number(m[2]) * 60) + Number(m[3]) + (Number(m[4]) / 1000);
  };

  function parse(text, vttUrl) {
    const cues = [];
    for (const block of text.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
      const lines = block.split('\n').filter((l) => l.trim());
      const at = lines.findIndex((l) => l.includes('-->'));
      if (at < 0 || at + 1 >= lines.length) continue;  // the header, NOTE blocks
      const [from, to] = lines[at].split('-->');
      const [file, fragment] = lines[at + 1].trim().split('#xywh=');
      if (!fragment) continue;
      const [x, y, w, h] = fragment.split(',').map(Number);
      cues.push({start: seconds(from), end: seconds(to.trim().split(/\s+/)[0]), url: new URL(file, vttUrl).href,
        x, y, w, h});
    }
    return cues;
  }

  const at = (cues, t) => cues.find((c) => t >= c.start && t < c.end) || (cues.length && t >= cues[cues.length - 1].end
    ? cues[cues.length - 1] : null);

  function attach(bar, opts) {
    const played = bar.querySelector('.scrub-played');
    const thumb = bar.querySelector('.thumb');
    const image = bar.querySelector('.thumb-image');
    const label = bar.querySelector('.thumb-time');
    const timeAt = (event) => {
      const rect = bar.getBoundingClientRect();
      const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
      return {t: fraction * opts.duration(), px: fraction * rect.width};
    };
    bar.addEventListener('mousemove', (event) => {
      const {t, px} = timeAt(event);
      const cue = at(opts.cues, t);
      if (!cue) { thumb.hidden = true; return; }
      Object.assign(image.style, {width: `${cue.w}px`, height: `${cue.h}px`, backgroundImage: `url("${cue.url}")`,
        backgroundPosition: `-${cue.x}px -${cue.y}px`});
      label.textContent = `${t.toFixed(1)} s`;
      thumb.hidden = false;
      thumb.dataset.time = String(t);
      thumb.dataset.tile = `${cue.url}#xywh=${cue.x},${cue.y},${cue.w},${cue.h}`;
      const width = bar.getBoundingClientRect().width;
      thumb.style.left = `${Math.round(Math.min(Math.max(0, px - cue.w / 2), Math.max(0, width - cue.w)))}px`;
    });
    bar.addEventListener('mouseleave', () => { thumb.hidden = true; });
    bar.addEventListener('click', (event) => opts.seek(timeAt(event).t));
    const tick = () => {
      const d = opts.duration();
      played.style.width = d ? `${Math.min(100, (opts.currentTime() / d) * 100)}%` : '0';
    };
    setInterval(tick, 250);
    bar.hidden = false;
  }

  window.vodfleetThumbnails = {parse, at, attach};
})();
