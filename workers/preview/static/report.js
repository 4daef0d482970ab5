// The side panel: report.json as a person reads it — the ladder with measured bitrates, PSNR/SSIM and VMAF
// (mean, 5th percentile, worst segment),
// the audio renditions with their loudness (source → published, BS.1770), the subtitle renditions, the encoder
// identity, and the QC verdict with every check.
'use strict';

window.vodfleetReport = (() => {
  const kbps = (bits) => (typeof bits === 'number' ? `${Math.round(bits / 1000)}` : '–');
  const fixed = (value, digits) => (typeof value === 'number' ? value.toFixed(digits) : '–');

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  // In a box that scrolls sideways: the ladder's and the audio's (loudness) columns are wider than the panel.
  function table(id, headings, rows) {
    return el('div', {class: 'table-scroll'}, el('table', {id},
      el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c)))))));
  }

  function vmafMethod(m) {
    if (!m) return 'VMAF not measured';
    return `VMAF ${m.model} at ${m.display} (${m.scaler}), FFmpeg ${(m.tool || {}).ffmpeg_version || '–'}`;
  }

  function render(panel, report) {
    const r = report.renditions || {};
    const video = r.video || [];
    const audio = r.audio || [];
    const subtitles = r.subtitles || [];
    const checks = (report.qc && report.qc.checks) || [];
    const failed = checks.filter((c) => !c.passed);
    const encoder = report.encoder || {};
    const plan = report.plan || {};
    const loudness = report.loudness || {};
    const loud = Object.fromEntries((loudness.tracks || []).map((t) => [t.id, t]));
    const lufs = (m) => fixed((m || {}).integrated_lufs, 1);
    const target = loudness.target
      ? `${loudness.preset}: ${loudness.target.integrated_lufs} LUFS, ceiling ${loudness.target.true_peak_dbtp} dBTP`
      : `${loudness.preset || '–'} (level unchanged)`;
    panel.replaceChildren(
      el('h2', {}, 'Ladder'),
      table('ladder', ['rung', 'size', 'codecs', 'target kb/s', 'avg kb/s', 'peak kb/s', 'PSNR dB', 'SSIM', 'VMAF',
        'VMAF p5', 'VMAF worst seg'],
        video.map((v) => [v.id, `${v.width}×${v.height}`, v.codecs, kbps(v.target_bitrate),
          kbps(v.measured_average_bitrate), kbps(v.measured_peak_bitrate),
          fixed((v.quality || {}).psnr, 2), fixed((v.quality || {}).ssim, 4), fixed((v.quality || {}).vmaf, 1),
          fixed((v.quality || {}).vmaf_p5, 1), fixed((v.quality || {}).vmaf_worst_segment, 1)])),
      el('p', {id: 'vmaf-method'}, vmafMethod(report.quality_method && report.quality_method.vmaf)),
      el('h2', {}, 'Audio'),
      table('audio', ['id', 'language', 'name', 'codecs', 'ch', 'avg kb/s', 'source LUFS', 'LUFS', 'LRA LU', 'dBTP',
        'gain'],
        audio.map((a) => {
          const l = loud[a.id] || {};
          const out = l.output || {};
          return [a.id, a.language, a.name, a.codecs, a.channels, kbps(a.measured_average_bitrate), lufs(l.source),
            lufs(out), fixed(out.lra_lu, 1), fixed(out.true_peak_dbtp, 1),
            l.mode === 'linear' ? `${fixed(l.gain_db, 1)} dB` : (l.mode || '–')];
        })),
      el('p', {id: 'loudness-target'}, `loudness ${target}`),
      el('h2', {}, 'Subtitles'),
      table('subtitles', ['id', 'language', 'name', 'cues', 'from'],
        subtitles.map((s) => [s.id, s.language, s.name, s.cues, `${s.source_format}, ${s.charset}`])),
      el('h2', {}, 'Encoder'),
      el('dl', {id: 'encoder'},
        el('dt', {}, 'ffmpeg'), el('dd', {}, encoder.ffmpeg_version || '–'),
        el('dt', {}, 'x264'), el('dd', {}, encoder.x264 || '–'),
        el('dt', {}, 'profile'), el('dd', {}, `${plan.profile || '–'} (${plan.preset || '–'})`),
        el('dt', {}, 'identity'), el('dd', {class: 'mono', title: encoder.identity || ''},
          (encoder.identity || '–').slice(0, 23)),
        el('dt', {}, 'fingerprint'), el('dd', {class: 'mono', title: encoder.fingerprint || ''},
          (encoder.fingerprint || '–').slice(0, 23))),
      el('h2', {}, 'QC'),
      el('p', {id: 'qc-summary', class: failed.length ? 'bad' : 'good'},
        `${checks.length - failed.length} of ${checks.length} checks passed`),
      ...(failed.length ? [el('ul', {id: 'qc-failed'}, ...failed.map((c) => el('li', {}, `${c.name}: ${c.detail}`)))]
        : []),
      el('details', {}, el('summary', {}, 'all checks'),
        el('ul', {id: 'qc-checks'}, ...checks.map((c) =>
          el('li', {class: c.passed ? 'good' : 'bad'}, `${c.passed ? '✓' : '✗'} ${c.name}: ${c.detail}`)))),
    );
  }

  function badge(node, report) {
    const passed = report.qc && report.qc.passed;
    node.textContent = passed ? 'QC passed' : 'QC failed';
    node.className = `badge ${passed ? 'good' : 'bad'}`;
  }

  return {render, badge};
})();
