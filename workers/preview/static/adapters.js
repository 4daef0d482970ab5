// One interface over two players, so the page and the tests never care which one is playing.
//
//   adapter.ready                 a promise: the manifest is parsed and tracks are known
//   adapter.renditions()          [{key, width, height, bandwidth, codecs}] (video only, one per rung; codecs:
//                                 the RFC 6381 string, which tells a rung's H.264/HEVC/AV1 renditions apart)
//   adapter.selectRendition(key)  key from renditions(), or 'auto' (ABR on)
//   adapter.currentRendition()    {key, width, height, bandwidth} | null   (what the player selected)
//   adapter.isAuto()
//   adapter.audioLanguages()      [{lang, name}]      adapter.selectAudio(lang)   adapter.audioLanguage()
//   adapter.textLanguages()       [{lang, name, key}] adapter.selectText(key | lang | null)   adapter.textLanguage()
//                                 (subtitle tracks, then in-band caption channels: hls.js's caption TextTracks,
//                                 Shaka's application/cea-608 text tracks)
//   adapter.textKey()             the active text track's key: its language, or "lang|name" when several tracks
//                                 share the language (full, forced, SDH)
//   adapter.textRestarts()        Shaka only: how often the text watch restarted a stalled text stream since the
//                                 last text choice, variant change or seek (see shakaPlayer)
//   adapter.destroy()             a promise
//
// Both players render subtitles as native TextTracks on the <video> (hls.js: renderTextTracksNatively;
// Shaka: NativeTextDisplayer, its default without a UI container), which is what the tests read.
'use strict';

window.vodfleetAdapters = (() => {
  // A text track's key for the picker: the language alone while it is unique, else language and name.
  const textKey = (all, lang, name) => (all.filter((t) => t.lang === lang).length > 1 ? `${lang}|${name}` : lang);
  const keyed = (all) => all.map((t) => ({...t, key: textKey(all, t.lang, t.name)}));
  const pickText = (all, wanted) => {
    const list = keyed(all);
    const index = list.findIndex((t) => t.key === wanted);
    return index >= 0 ? index : list.findIndex((t) => t.lang === wanted);
  };
  function hlsjs(video, url, hooks) {
    if (!window.Hls || !Hls.isSupported()) {
      throw new Error('hls.js cannot play here (no Media Source Extensions)');
    }
    const hls = new Hls({startLevel: -1, renderTextTracksNatively: true, subtitleDisplay: true});
    const ready = new Promise((resolve, reject) => {
      hls.once(Hls.Events.MANIFEST_PARSED, () => resolve());
      hls.on(Hls.Events.ERROR, (_event, data) => {
        const error = {
          player: 'hls.js', fatal: Boolean(data.fatal), type: data.type, details: data.details,
          url: data.url || (data.frag && data.frag.url) || (data.context && data.context.url) || '',
          message: data.error ? String(data.error.message || data.error) : data.reason || '',
        };
        hooks.onError(error);
        if (data.fatal) reject(new Error(`hls.js: ${data.details} ${error.url}`));
      });
    });
    for (const name of ['MANIFEST_PARSED', 'LEVEL_SWITCHED', 'AUDIO_TRACKS_UPDATED', 'AUDIO_TRACK_SWITCHED',
      'SUBTITLE_TRACKS_UPDATED', 'SUBTITLE_TRACK_SWITCH']) {
      hls.on(Hls.Events[name], () => hooks.onChange(name));
    }
    hls.loadSource(url);
    hls.attachMedia(video);
    const level = (l, i) => ({key: String(i), width: l.width, height: l.height, bandwidth: l.bitrate,
      codecs: l.videoCodec || ''});
    // In-band CEA-608 (HLS CLOSED-CAPTIONS): hls.js decodes them into the element's 'captions' TextTracks, named
    // from the group's NAME; the picker lists them after the WebVTT subtitle tracks.
    // (hls.js also gives WebVTT SDH subtitle tracks the kind 'captions': those are told apart by name)
    const captionTracks = () => {
      const subtitles = new Set(hls.subtitleTracks.map((t) => `${t.lang}|${t.name}`));
      return [...video.textTracks].filter((t) => t.kind === 'captions' && !subtitles.has(`${t.language}|${t.label}`));
    };
    const hlsText = () => [...hls.subtitleTracks.map((t) => ({lang: t.lang, name: t.name})),
      ...captionTracks().map((t) => ({lang: t.language, name: t.label}))];
    const activeText = () => {
      if (hls.subtitleTrack >= 0) return hls.subtitleTrack;
      const shown = captionTracks().findIndex((t) => t.mode === 'showing');
      return shown >= 0 ? hls.subtitleTracks.length + shown : -1;
    };
    video.textTracks.addEventListener('addtrack', () => hooks.onChange('addtrack'));
    const indexOf = (tracks, lang) => {
      const i = tracks.findIndex((t) => t.lang === lang);
      if (i < 0) throw new Error(`no track in language ${lang}`);
      return i;
    };
    return {
      name: 'hls.js', version: Hls.version, raw: hls, ready,
      renditions: () => hls.levels.map(level),
      selectRendition(key) {
        hls.currentLevel = key === 'auto' ? -1 : Number(key);  // currentLevel: switch now, flush the buffer
      },
      currentRendition() {
        const i = hls.currentLevel;
        return i >= 0 && hls.levels[i] ? level(hls.levels[i], i) : null;
      },
      isAuto: () => hls.autoLevelEnabled,
      audioLanguages: () => hls.audioTracks.map((t) => ({lang: t.lang, name: t.name})),
      selectAudio(lang) { hls.audioTrack = indexOf(hls.audioTracks, lang); },
      audioLanguage() {
        const track = hls.audioTracks[hls.audioTrack];
        return track ? track.lang : null;
      },
      textLanguages: () => keyed(hlsText()),
      selectText(wanted) {
        hls.subtitleDisplay = true;
        const index = wanted === null ? -1 : pickText(hlsText(), wanted);
        if (wanted !== null && index < 0) throw new Error(`no text track ${wanted}`);
        const subtitles = hls.subtitleTracks.length;
        const subtitle = index < subtitles ? index : -1;
        if (hls.subtitleTrack !== subtitle) hls.subtitleTrack = subtitle;  // (a no-op switch still resets modes)
        // 'hidden', not 'disabled', for the others: hls.js keeps adding cues to hidden tracks (as it creates them)
        captionTracks().forEach((t, i) => { t.mode = i === index - subtitles ? 'showing' : 'hidden'; });
      },
      textKey() {
        const all = hlsText();
        const track = all[activeText()];
        return track ? textKey(all, track.lang, track.name) : null;
      },
      textLanguage() {
        const track = hlsText()[activeText()];
        return track ? track.lang : null;
      },
      async destroy() { hls.destroy(); },
    };
  }

  const shakaText = (player) => player.getTextTracks().map((t) => ({lang: t.language, name: t.label || t.language,
    active: t.active}));

  function shakaPlayer(video, url, format, hooks) {
    if (!window.shaka) throw new Error('Shaka Player did not load');
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) throw new Error('Shaka Player cannot play in this browser');
    const player = new shaka.Player();
    player.configure({streaming: {bufferingGoal: 12, rebufferingGoal: 1}, abr: {enabled: true}});
    player.addEventListener('error', (event) => {
      const e = event.detail;
      hooks.onError({
        player: 'shaka', fatal: e.severity === shaka.util.Error.Severity.CRITICAL, type: `category ${e.category}`,
        details: `code ${e.code}`, url: (e.data && typeof e.data[0] === 'string') ? e.data[0] : '',
        message: e.message || '',
      });
    });
    for (const name of ['trackschanged', 'variantchanged', 'adaptation', 'textchanged', 'abrstatuschanged']) {
      player.addEventListener(name, () => hooks.onChange(name));
    }
    const mime = format === 'dash' ? 'application/dash+xml' : 'application/x-mpegurl';
    // Shaka leaves text off unless asked; show the track the manifest marks as default (HLS DEFAULT=YES,
    // DASH Role main), as hls.js does.
    const ready = player.attach(video).then(() => player.load(url, null, mime)).then(() => {
      const text = player.getTextTracks();
      const primary = text.find((t) => t.primary);
      if (primary && !text.some((t) => t.active)) player.selectTextTrack(primary);
    });
    // Shaka 5.2 quirk (segmented DASH text, WebVTT in ISO-BMFF): a text track chosen, or a seek made, while a
    // variant switch's segments are in flight can leave the text stream stalled for good: the track is active
    // and showing, but no text segment is fetched again and re-selecting it is a no-op ("already active").
    // Measured with the preview's own output: 4 of 4 language changes right after a quality change showed no cue.
    // The watch below checks, a moment after each text choice, variant change and seek, that the text buffer
    // covers the playhead once the video buffer does; if not, it turns the track off and on again, which makes
    // Shaka start a new text stream (what a viewer would do by hand). At most 3 restarts per trigger.
    const textWatch = {timer: 0, checks: 0, restarts: 0};
    const covers = (ranges, t) => ranges.some((r) => r.start <= t + 0.1 && r.end > t);
    const checkText = () => {
      const active = player.getTextTracks().find((t) => t.active);
      if (!active || textWatch.checks++ > 20) return;
      const t = video.currentTime;
      const buffered = player.getBufferedInfo();
      if (covers(buffered.text, t)) return;
      if (!video.seeking && covers(buffered.video, t) && textWatch.restarts < 3) {
        textWatch.restarts++;
        hooks.onChange('textrestart');
        player.selectTextTrack(null);
        player.selectTextTrack(active);
      }
      textWatch.timer = setTimeout(checkText, 700);
    };
    const watchText = () => {
      clearTimeout(textWatch.timer);
      textWatch.checks = 0;
      textWatch.restarts = 0;
      textWatch.timer = setTimeout(checkText, 700);
    };
    player.addEventListener('variantchanged', watchText);
    player.addEventListener('adaptation', watchText);
    video.addEventListener('seeked', watchText);
    const key = (t) => `${t.width}x${t.height}@${t.bandwidth}`;
    const rendition = (t) => ({key: key(t), width: t.width, height: t.height, bandwidth: t.bandwidth,
      codecs: t.codecs || ''});  // a Shaka VideoTrack names its codec in `codecs`
    const videoTracks = () => {
      const seen = new Map();
      for (const t of player.getVideoTracks()) if (!seen.has(key(t))) seen.set(key(t), t);
      return [...seen.values()].sort((a, b) => a.bandwidth - b.bandwidth);
    };
    const find = (tracks, lang) => {
      const track = tracks.find((t) => t.language === lang);
      if (!track) throw new Error(`no track in language ${lang}`);
      return track;
    };
    return {
      name: 'Shaka Player', version: shaka.Player.version, raw: player, ready,
      renditions: () => videoTracks().map(rendition),
      selectRendition(k) {
        if (k === 'auto') {
          player.configure('abr.enabled', true);
          return;
        }
        const track = videoTracks().find((t) => key(t) === k);
        if (!track) throw new Error(`no rendition ${k}`);
        player.configure('abr.enabled', false);
        player.selectVideoTrack(track, /* clearBuffer */ true);
        watchText();
      },
      currentRendition() {
        const track = player.getVideoTracks().find((t) => t.active);
        return track ? rendition(track) : null;
      },
      isAuto: () => player.getConfiguration().abr.enabled,
      audioLanguages: () => player.getAudioTracks().map((t) => ({lang: t.language, name: t.label || t.language})),
      selectAudio(lang) { player.selectAudioTrack(find(player.getAudioTracks(), lang)); },
      audioLanguage() {
        const track = player.getAudioTracks().find((t) => t.active);
        return track ? track.language : null;
      },
      textLanguages: () => keyed(shakaText(player)),
      selectText(wanted) {
        if (wanted === null) {
          player.selectTextTrack(null);
          return;
        }
        const tracks = player.getTextTracks();
        const index = pickText(shakaText(player), wanted);
        if (index < 0) throw new Error(`no text track ${wanted}`);
        player.selectTextTrack(tracks[index]);
        watchText();
      },
      textKey() {
        const all = shakaText(player);
        const track = all.find((t) => t.active);
        return track ? textKey(all, track.lang, track.name) : null;
      },
      textLanguage() {
        const track = player.getTextTracks().find((t) => t.active);
        return track ? track.language : null;
      },
      textRestarts: () => textWatch.restarts,
      destroy: () => {
        clearTimeout(textWatch.timer);
        return player.destroy();
      },
    };
  }

  return {hlsjs, shaka: shakaPlayer};
})();
