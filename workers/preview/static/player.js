// The preview page: one <video>, a player switch (hls.js for HLS; Shaka Player for DASH and HLS), pickers for
// rendition / audio language / subtitle language, a status line, and the report panel.
//
// window.vodfleetPlayer is the page's test hook (stable; the tests use it instead of scraping the UI):
//   .video  .mode  .ready  .errors  .report  .versions
//   .load(mode)                       mode: 'hlsjs-hls' | 'shaka-dash' | 'shaka-hls'; a promise
//   .renditions()                     [{id, width, height, bandwidth}]  (id: the rung, e.g. '360p')
//   .selectRendition(id | 'auto')     .currentRendition()   .isAuto()
//   .audioLanguages() .selectAudio(lang) .audioLanguage()
//   .textLanguages()  .selectText(key | lang | null) .textLanguage() .textKey()
//   .raw()                            the underlying Hls / shaka.Player (debugging only)
//   .cueStyles()                      the ::cue colour rules the page applies (from the tracks' STYLE blocks)
//   .thumbnails()                     the storyboard cues [{start, end, url, x, y, w, h}] ([] if none)
//   .thumbnailAt(seconds)             the cue for that time, or null
// The page reads ?mode=… (default hlsjs-hls), ?autoplay=0 (default: play as soon as it can) and ?base=/path/ (where
// the output's files are on this origin, default /: the API's console plays a title through /play/<ticket>/).
'use strict';

(() => {
  const params = new URLSearchParams(location.search);
  const wanted = params.get('base') || '/';
  const BASE = /^\/(?!\/)[^?#\\]*$/.test(wanted) ? wanted.replace(/\/?$/, '/') : '/';  // same-origin paths only
  const MODES = {
    'hlsjs-hls': {player: 'hlsjs', format: 'hls', url: `${BASE}master.m3u8`},
    'shaka-dash': {player: 'shaka', format: 'dash', url: `${BASE}manifest.mpd`},
    'shaka-hls': {player: 'shaka', format: 'hls', url: `${BASE}master.m3u8`},
  };
  const $ = (selector) => document.querySelector(selector);
  const autoplay = params.get('autoplay') !== '0';
  const ui = {
    player: $('#player-select'), rendition: $('#rendition-select'), audio: $('#audio-select'),
    text: $('#text-select'), status: $('#status'), errors: $('#errors'), warnings: $('#warnings'), panel: $('#panel'),
    title: $('#title'), badge: $('#qc-badge'), versions: $('#versions'),
  };
  const state = {video: $('#video'), mode: null, adapter: null, ready: false, errors: [], report: null, loads: 0,
    thumbnails: []};

  // --- renditions carry the ladder's rung ids (from report.json) ---------------------------------------------
  function rungId(r) {
    const rungs = (state.report && state.report.renditions && state.report.renditions.video) || [];
    // one size may be made in H.264, HEVC and AV1 (--codecs): the codec's sample entry tells them apart
    const entry = (codecs) => String(codecs || '').split('.')[0];
    const rung = rungs.find((v) => v.width === r.width && v.height === r.height
      && (!r.codecs || entry(v.codecs) === entry(r.codecs)));
    return rung ? rung.id : `${r.height}p`;
  }
  const withId = (r) => (r ? {id: rungId(r), width: r.width, height: r.height, bandwidth: r.bandwidth} : null);
  const adapter = () => {
    if (!state.adapter) throw new Error('no player loaded');
    return state.adapter;
  };

  // --- loading a player ------------------------------------------------------------------------------------
  async function load(mode) {
    if (!MODES[mode]) throw new Error(`unknown mode ${mode}; one of ${Object.keys(MODES).join(', ')}`);
    const ticket = ++state.loads;
    state.ready = false;
    state.errors = [];
    renderErrors();
    if (state.adapter) {
      const old = state.adapter;
      state.adapter = null;
      await old.destroy();
    }
    // A fresh element per player: no text tracks, buffers or listeners left over from the last one.
    const video = state.video.cloneNode(false);
    state.video.replaceWith(video);
    state.video = video;
    video.addEventListener('timeupdate', renderStatus);
    video.addEventListener('resize', renderStatus);
    state.mode = mode;
    ui.player.value = mode;
    const {player, format, url} = MODES[mode];
    const hooks = {onChange: () => ticket === state.loads && renderPickers(), onError: noteError};
    const next = player === 'hlsjs' ? vodfleetAdapters.hlsjs(video, url, hooks)
      : vodfleetAdapters.shaka(video, url, format, hooks);
    state.adapter = next;
    await next.ready;
    if (ticket !== state.loads) return;
    state.ready = true;
    renderPickers();
    renderStatus();
    if (autoplay) video.play().catch((err) => setStatus(`press play (${err.name})`));
  }

  function noteError(error) {
    state.errors.push(error);
    renderErrors();
  }

  // --- pickers ---------------------------------------------------------------------------------------------
  function options(select, entries, selected) {
    const values = entries.map(([value]) => value).join('\n');
    if (select.dataset.values !== values) {
      select.replaceChildren(...entries.map(([value, label]) => new Option(label, value)));
      select.dataset.values = values;
    }
    select.value = selected;
  }

  function renderPickers() {
    const a = state.adapter;
    if (!a) return;
    const renditions = a.renditions();
    const current = withId(a.currentRendition());
    options(ui.rendition, [['auto', current && a.isAuto() ? `auto (${current.id})` : 'auto'],
      ...renditions.map((r) => [r.key, `${rungId(r)} · ${r.width}×${r.height} · ${Math.round(r.bandwidth / 1000)} kb/s`])],
    a.isAuto() || !current ? 'auto' : (renditions.find((r) => rungId(r) === current.id) || {key: 'auto'}).key);
    options(ui.audio, a.audioLanguages().map((t) => [t.lang, `${t.name} (${t.lang})`]), a.audioLanguage() || '');
    options(ui.text, [['', 'off'], ...a.textLanguages().map((t) => [t.key, `${t.name} (${t.lang})`])],
      a.textKey() || '');
    renderStatus();
  }

  ui.player.addEventListener('change', () => {
    const url = new URL(location.href);
    url.searchParams.set('mode', ui.player.value);
    history.replaceState(null, '', url);
    load(ui.player.value).catch(failed);
  });
  ui.rendition.addEventListener('change', () => adapter().selectRendition(ui.rendition.value));
  ui.audio.addEventListener('change', () => adapter().selectAudio(ui.audio.value));
  ui.text.addEventListener('change', () => adapter().selectText(ui.text.value || null));

  // --- status line and errors ------------------------------------------------------------------------------
  function setStatus(text) { ui.status.textContent = text; }

  function renderStatus() {
    const a = state.adapter;
    const v = state.video;
    if (!a || !state.ready) return;
    const current = withId(a.currentRendition());
    const duration = Number.isFinite(v.duration) ? v.duration.toFixed(1) : '?';
    setStatus([
      `${a.name} ${a.version}`,
      `${v.currentTime.toFixed(1)} / ${duration} s`,
      v.videoWidth ? `decoding ${v.videoWidth}×${v.videoHeight}` : 'no frame yet',
      current ? `rendition ${current.id}${a.isAuto() ? ' (auto)' : ''}` : 'rendition ?',
      `audio ${a.audioLanguage() || '–'}`,
      `subtitles ${a.textLanguage() || 'off'}`,
    ].join(' · '));
  }

  // Fatal errors in red; the players recover from the rest (e.g. a request aborted by a switch), so those are
  // only counted, with the details on hover.
  function renderErrors() {
    const describe = (e) => `${e.player}: ${e.details} ${e.type || ''} ${e.url} ${e.message}`.trim();
    const fatal = state.errors.filter((e) => e.fatal);
    const recovered = state.errors.filter((e) => !e.fatal);
    ui.errors.hidden = fatal.length === 0;
    ui.errors.replaceChildren(...fatal.map((e) => {
      const line = document.createElement('div');
      line.textContent = `fatal: ${describe(e)}`;
      return line;
    }));
    ui.warnings.textContent = recovered.length ? `${recovered.length} recovered player warning(s)` : '';
    ui.warnings.title = recovered.map(describe).join('\n');
  }

  function failed(err) {
    noteError({player: state.mode, fatal: true, type: 'load', details: String(err && err.message || err), url: '',
      message: ''});
    setStatus(`failed: ${err && err.message || err}`);
  }

  // --- report panel ----------------------------------------------------------------------------------------
  async function loadReport() {
    try {
      const response = await fetch(`${BASE}report.json`, {cache: 'no-cache'});
      if (!response.ok) throw new Error(`report.json: HTTP ${response.status}`);
      state.report = await response.json();
      vodfleetReport.render(ui.panel, state.report);
      vodfleetReport.badge(ui.badge, state.report);
      const source = state.report.source || {};
      ui.title.textContent = `${String(source.path || '').split('/').pop()} · ${Number(source.duration || 0).toFixed(1)} s`;
      applyCueStyles((state.report.renditions || {}).subtitles || []);
      await loadThumbnails(state.report.outputs || {}, Number(source.duration || 0));
    } catch (err) {
      ui.panel.textContent = `No report: ${err.message}`;
      ui.badge.textContent = 'no report';
    }
  }

  // --- cue colours -------------------------------------------------------------------------------------------
  // Both players hand the browser cues they parsed themselves (VTTCue objects), so a WebVTT file's STYLE block
  // never reaches the renderer and <c.yellow> would be drawn white. report.json gives each track's STYLE CSS
  // (`cue_styles`); the page keeps only its ::cue(.class) colour rules (color / background-color with a plain
  // colour value: a sidecar's STYLE is untrusted, so nothing else, e.g. url(), passes) and applies them to the
  // <video>'s cues.
  const CUE_RULE = /::cue\(\.([A-Za-z0-9_-]{1,40})\)\s*\{([^{}]*)\}/g;
  const COLOUR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\([0-9\s.,%]{5,40}\))$/;
  function cueRules(css) {
    const rules = [];
    for (const [, name, body] of String(css || '').matchAll(CUE_RULE)) {
      const declarations = body.split(';').map((d) => d.split(':').map((x) => x.trim()))
        .filter(([property, value]) => ['color', 'background-color'].includes(property) && COLOUR.test(value || ''))
        .map(([property, value]) => `${property}: ${value}`);
      if (declarations.length) rules.push(`video::cue(.${name}) { ${declarations.join('; ')}; }`);
    }
    return rules;
  }

  function applyCueStyles(subtitles) {
    const rules = new Set(subtitles.flatMap((sub) => cueRules(sub.cue_styles)));
    const sheet = document.getElementById('cue-styles') || document.head.appendChild(
      Object.assign(document.createElement('style'), {id: 'cue-styles'}));
    sheet.textContent = [...rules].join('\n');
  }

  // --- poster and storyboard thumbnails (report.json's outputs name them) ------------------------------------
  async function loadThumbnails(outputs, sourceDuration) {
    // Set on the element before the first load: each player's fresh element is a clone and keeps it.
    if (outputs.poster) state.video.poster = `${BASE}${outputs.poster}`;
    if (!outputs.thumbnails) return;
    const url = new URL(`${BASE}${outputs.thumbnails}`, location.href).href;
    const response = await fetch(url, {cache: 'no-cache'});
    if (!response.ok) return;
    state.thumbnails = vodfleetThumbnails.parse(await response.text(), url);
    vodfleetThumbnails.attach($('#scrub'), {
      cues: state.thumbnails,
      duration: () => (Number.isFinite(state.video.duration) && state.video.duration) || sourceDuration,
      currentTime: () => state.video.currentTime,
      seek: (t) => { state.video.currentTime = t; },
    });
  }

  // --- the test hook ---------------------------------------------------------------------------------------
  const versions = {hlsjs: window.Hls ? Hls.version : null, shaka: window.shaka ? shaka.Player.version : null};
  ui.versions.textContent = `hls.js ${versions.hlsjs} · Shaka Player ${versions.shaka} · served locally`;
  window.vodfleetPlayer = {
    get video() { return state.video; },
    get mode() { return state.mode; },
    get ready() { return state.ready; },
    get errors() { return state.errors.slice(); },
    get report() { return state.report; },
    versions,
    modes: Object.keys(MODES),
    load,
    renditions: () => adapter().renditions().map(withId),
    selectRendition(id) {
      if (id === 'auto') {
        adapter().selectRendition('auto');
      } else {
        const match = adapter().renditions().find((r) => rungId(r) === id);
        if (!match) throw new Error(`no rendition ${id}`);
        adapter().selectRendition(match.key);
      }
      renderPickers();
    },
    currentRendition: () => withId(adapter().currentRendition()),
    isAuto: () => adapter().isAuto(),
    audioLanguages: () => adapter().audioLanguages(),
    selectAudio(lang) { adapter().selectAudio(lang); renderPickers(); },
    audioLanguage: () => adapter().audioLanguage(),
    textLanguages: () => adapter().textLanguages(),
    selectText(lang) { adapter().selectText(lang); renderPickers(); },
    textLanguage: () => adapter().textLanguage(),
    textKey: () => adapter().textKey(),
    raw: () => adapter().raw,  // the Hls or shaka.Player instance, for debugging
    cueStyles: () => (document.getElementById('cue-styles') || {}).textContent || '',
    thumbnails: () => state.thumbnails.slice(),
    thumbnailAt: (t) => vodfleetThumbnails.at(state.thumbnails, t),
  };

  setInterval(renderStatus, 500);
  const first = MODES[params.get('mode')] ? params.get('mode') : 'hlsjs-hls';
  loadReport().then(() => load(first)).catch(failed);
})();
