// The vodfleet console: sign in with an API token, drop a master and its subtitle files, upload them straight to
// S3 through presigned multipart URLs (resumable across a page reload: the parts already uploaded are asked of
// S3 and skipped), submit the job, follow every job live (Server-Sent Events read with fetch(), so the token
// travels in the Authorization header, never in a URL), read a failure's code, message and what to do, and play
// a published title in the preview page with its QC panel.
//
// window.vodfleetConsole is the test hook: .jobs() .files() .puts .pauseAfter(n) .extra (fields added to POST /jobs)
'use strict';

(() => {
  const $ = (selector) => document.querySelector(selector);
  // language[-Script][-REGION]: the fleet's rule (pipelines/language.py), so a tag that passes here passes there
  const TAG = /^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$/;
  const SUBTITLE = /\.(srt|vtt|ass|ssa|ttml|dfxp|xml|scc)$/i;
  const TERMINAL = new Set(['published', 'failed', 'cancelled']);
  const state = {token: sessionStorage.getItem('vodfleet.token') || '', files: [], jobs: new Map(), lastEventId: null,
    pauseAfter: null, puts: 0, extra: {}, stream: null};

  class ApiError extends Error {
    constructor(status, error) {
      super(error && error.message || `HTTP ${status}`);
      this.status = status;
      this.error = error || {};
    }
  }

  async function api(path, options = {}) {
    const headers = Object.assign({Authorization: `Bearer ${state.token}`}, options.headers || {});
    const response = await fetch(path, Object.assign({}, options, {headers}));
    const json = (response.headers.get('content-type') || '').includes('json') ? await response.json() : null;
    if (!response.ok) throw new ApiError(response.status, json && json.error);
    return json;
  }
  const post = (path, body, headers = {}) => api(path, {method: 'POST', body: JSON.stringify(body),
    headers: Object.assign({'Content-Type': 'application/json'}, headers)});
  const text = (el, value) => { el.textContent = value; return el; };
  const make = (tag, className, content) => {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (content !== undefined) el.textContent = content;
    return el;
  };
  const eta = (s) => (s === null || s === undefined ? '' : s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`);

  // --- sign in ---------------------------------------------------------------------------------------------
  async function signIn(token) {
    state.token = token;
    let who;
    try {
      who = await api('/token');
    } catch (err) {
      state.token = '';
      sessionStorage.removeItem('vodfleet.token');
      text($('#sign-in-error'), err.error && err.error.code ? `${err.error.code}: ${err.message}` : err.message);
      return false;
    }
    sessionStorage.setItem('vodfleet.token', token);
    $('#sign-in').hidden = true;
    $('#app').hidden = false;
    $('#sign-out').hidden = false;
    text($('#who'), `${who.token_id} · ${who.scope} · ${who.prefixes.join(', ')}`);
    showResumable();
    await loadJobs();
    follow();
    return true;
  }
  $('#sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('#token').value.trim());
  });
  $('#sign-out').addEventListener('click', () => {
    sessionStorage.removeItem('vodfleet.token');
    location.reload();
  });

  // --- picking files ---------------------------------------------------------------------------------------
  const uploadKey = (file) => `vodfleet.upload:${file.name}:${file.size}:${file.lastModified}`;

  function showResumable() {
    const notes = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (!key.startsWith('vodfleet.upload:')) continue;
      const saved = JSON.parse(localStorage.getItem(key));
      notes.push(`${saved.name}: ${Math.floor((100 * saved.done) / saved.size)}% uploaded`);
    }
    text($('#resume-note'), notes.length ? `Unfinished uploads (drop the same files to resume): ${notes.join(', ')}` : '');
  }

  function guessLanguage(name) {
    const parts = name.split('.').slice(1, -1);
    return parts.find((p) => TAG.test(p)) || '';
  }

  function pick(fileList) {
    for (const file of fileList) {
      const role = SUBTITLE.test(file.name) ? 'subtitle' : 'master';
      if (role === 'master') state.files = state.files.filter((f) => f.role !== 'master');
      const entry = {file, role, language: role === 'subtitle' ? guessLanguage(file.name) : '', check: null,
        checkError: null, uploaded: 0, upload: null, resumedParts: 0};
      state.files.push(entry);
      if (role === 'subtitle') checkSubtitle(entry);
    }
    renderFiles();
  }

  async function checkSubtitle(entry) {
    entry.check = null;
    entry.checkError = null;
    if (!TAG.test(entry.language)) {
      entry.checkError = {code: 'language_invalid', message: `"${entry.language}" is not a BCP-47 tag such as en, pt-BR, zh-Hant`};
      renderFiles();
      return;
    }
    try {
      const query = new URLSearchParams({language: entry.language, filename: entry.file.name});
      entry.check = await api(`/subtitles/check?${query}`, {method: 'POST', body: entry.file,
        headers: {'Content-Type': 'application/octet-stream'}});
    } catch (err) {
      entry.checkError = Object.assign({message: err.message}, err.error);
    }
    renderFiles();
  }

  function renderFiles() {
    const body = $('#picked tbody');
    body.replaceChildren();
    for (const entry of state.files) {
      const row = make('tr');
      row.dataset.file = entry.file.name;
      row.append(make('td', '', entry.file.name), make('td', '', entry.role));
      const language = make('td');
      if (entry.role === 'subtitle') {
        const input = make('input');
        input.setAttribute('list', 'languages');
        input.value = entry.language;
        input.className = TAG.test(entry.language) ? '' : 'invalid';
        input.addEventListener('change', () => { entry.language = input.value.trim(); checkSubtitle(entry); });
        language.append(input);
      }
      const check = make('td', 'check');
      if (entry.check) text(check, `${entry.check.charset} · ${entry.check.format} · ${entry.check.cues} cues`).className = 'check ok';
      else if (entry.checkError) text(check, `${entry.checkError.code}: ${entry.checkError.message}`).className = 'check error';
      else if (entry.role === 'subtitle') text(check, 'checking…');
      const progress = make('td');
      const bar = make('div', 'bar');
      const fill = make('div');
      fill.style.width = `${Math.floor((100 * entry.uploaded) / entry.file.size)}%`;
      bar.append(fill);
      progress.append(bar, make('span', 'small percent', ` ${Math.floor((100 * entry.uploaded) / entry.file.size)}%`));
      row.append(language, check, progress);
      body.append(row);
    }
    $('#picked').hidden = state.files.length === 0;
    $('#submit-form').hidden = !state.files.some((f) => f.role === 'master');
  }

  const drop = $('#drop');
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    pick(event.dataTransfer.files);
  });
  $('#files').addEventListener('change', (event) => pick(event.target.files));

  // --- uploading (straight to S3) --------------------------------------------------------------------------
  // Each part's SHA-256 (Web Crypto) signs its URL (POST /uploads/{id}/parts): S3 refuses a body that does not
  // hash to it, so a part corrupted between the file and the bucket never lands. Web Crypto needs a secure context
  // (https or localhost); elsewhere the part goes with the unsigned URL (its ETag is still checked at complete).
  async function signedPart(upload, part, blob) {
    if (!(window.crypto && window.crypto.subtle)) return part;
    const digest = new Uint8Array(await window.crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    let binary = '';
    for (const byte of digest) binary += String.fromCharCode(byte);
    const signed = await post(`/uploads/${upload.upload_id}/parts`,
      {parts: [{part_number: part.part_number, sha256: btoa(binary)}]});
    return signed.parts[0];
  }

  function putPart(url, blob, onProgress, headers = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => (xhr.status === 200 ? resolve(xhr.getResponseHeader('ETag'))
        : reject(new Error(`part upload: HTTP ${xhr.status}`)));
      xhr.onerror = () => reject(new Error('part upload: network error (is the bucket\'s CORS set?)'));
      xhr.send(blob);
    });
  }

  async function uploadFile(entry) {
    const key = uploadKey(entry.file);
    const saved = JSON.parse(localStorage.getItem(key) || 'null');
    let upload = null;
    if (saved) {
      try { upload = await api(`/uploads/${saved.upload_id}`); } catch (err) { upload = null; }
    }
    if (!upload) {
      upload = await post('/uploads', {filename: entry.file.name, size: entry.file.size,
        content_type: entry.file.type || 'application/octet-stream'});
    }
    entry.upload = upload;
    entry.resumedParts = upload.uploaded.length;
    let done = upload.state === 'complete' ? entry.file.size : upload.uploaded.reduce((sum, p) => sum + p.size, 0);
    const remember = () => localStorage.setItem(key, JSON.stringify({upload_id: upload.upload_id, name: entry.file.name,
      size: entry.file.size, done}));
    const show = (bytes) => { entry.uploaded = bytes; renderFiles(); };
    remember();
    show(done);
    const etags = upload.uploaded.map((p) => ({part_number: p.part_number, etag: p.etag, size: p.size}));
    for (const part of upload.parts) {
      if (state.pauseAfter !== null && state.puts >= state.pauseAfter) throw new Error('upload paused');
      const blob = entry.file.slice(part.offset, part.offset + part.size);
      const signed = await signedPart(upload, part, blob);
      const etag = await putPart(signed.url, blob, (loaded) => show(done + loaded), signed.headers || {});
      state.puts += 1;
      etags.push({part_number: part.part_number, etag, size: part.size});
      done += part.size;
      remember();
      show(done);
    }
    if (upload.state !== 'complete') {
      upload = await post(`/uploads/${upload.upload_id}/complete`, {parts: etags.sort((a, b) => a.part_number - b.part_number)});
    }
    entry.upload = upload;
    return upload;
  }

  $('#submit-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('#submit-error');
    text(error, '');
    const bad = state.files.find((f) => f.role === 'subtitle' && !f.check);
    if (bad) {
      text(error, `${bad.file.name}: fix its language or file first (${bad.checkError ? bad.checkError.message : 'still checking'})`);
      return;
    }
    const audio = $('#audio-language').value.split(',').map((tag) => tag.trim()).filter(Boolean);
    const badAudio = audio.find((tag) => !TAG.test(tag));
    $('#audio-language').className = badAudio ? 'invalid' : '';
    if (badAudio) {
      text(error, `audio language: "${badAudio}" is not a BCP-47 tag such as en, pt-BR, zh-Hant`);
      return;
    }
    $('#submit').disabled = true;
    try {
      const uploads = [];
      for (const entry of state.files) uploads.push([entry, await uploadFile(entry)]);
      const master = uploads.find(([entry]) => entry.role === 'master')[1];
      const body = Object.assign({source: master.source, profile: $('#profile').value,
        subtitles: uploads.filter(([entry]) => entry.role === 'subtitle')
          .map(([entry, upload]) => ({language: entry.language, source: upload.source}))}, state.extra);
      if ($('#output-prefix').value.trim()) body.output_prefix = $('#output-prefix').value.trim();
      if (audio.length) body.audio_languages = audio;
      const job = await post('/jobs', body, {'Idempotency-Key': `console-${master.upload_id}`});
      for (const entry of state.files) localStorage.removeItem(uploadKey(entry.file));
      state.jobs.set(job.job_id, job);
      state.files = [];
      renderFiles();
      renderJobs();
      showResumable();
    } catch (err) {
      text(error, err.error && err.error.code ? `${err.error.code}: ${err.message} ${err.error.hint || ''}` : err.message);
    } finally {
      $('#submit').disabled = false;
    }
  });

  // --- jobs, live ------------------------------------------------------------------------------------------
  async function loadJobs() {
    const page = await api('/jobs?limit=50');
    for (const job of page.jobs) state.jobs.set(job.job_id, job);
    renderJobs();
  }

  function renderJobs() {
    const body = $('#jobs');
    body.replaceChildren();
    const jobs = [...state.jobs.values()].sort((a, b) => b.submitted_at - a.submitted_at);
    for (const job of jobs) {
      const row = make('tr');
      row.dataset.job = job.job_id;
      const percent = job.state === 'published' ? 100 : job.percent || 0;
      const bar = make('div', 'bar');
      const fill = make('div');
      fill.style.width = `${percent}%`;
      bar.append(fill);
      const progress = make('td');
      progress.append(bar, make('span', 'small', ` ${percent.toFixed(0)}%`));
      const actions = make('td');
      if (job.state === 'published') {
        const play = make('button', 'play', 'Play');
        play.type = 'button';
        play.addEventListener('click', () => openTitle(job.output_prefix));
        actions.append(play);
      } else if (!TERMINAL.has(job.state)) {
        const cancel = make('button', 'cancel', 'Cancel');
        cancel.type = 'button';
        cancel.addEventListener('click', () => post(`/jobs/${job.job_id}/cancel`, {}).then((j) => { state.jobs.set(j.job_id, j); renderJobs(); }));
        actions.append(cancel);
      }
      if (job.state === 'failed' || job.state === 'cancelled') {
        const retry = make('button', 'retry', 'Retry');
        retry.type = 'button';
        retry.addEventListener('click', () => post(`/jobs/${job.job_id}/retry`, {})
          .then((j) => { state.jobs.set(j.job_id, j); renderJobs(); })
          .catch((err) => { retry.replaceWith(make('span', 'error small', err.error && err.error.hint || err.message)); }));
        actions.append(retry);
      }
      row.append(make('td', 'small', job.job_id), make('td', '', job.output_prefix),
        make('td', `state state-${job.state}`, job.state), progress, make('td', 'eta', eta(job.eta_seconds)), actions);
      body.append(row);
      if (job.state === 'failed' && job.error) {
        const detail = make('tr');
        detail.dataset.failure = job.job_id;
        const cell = make('td');
        cell.colSpan = 6;
        const box = make('div', 'failure');
        box.append(make('strong', 'code', job.error.code), make('span', 'message', ` ${forProducer(job.error.message)}`),
          make('div', 'hint', `What to do: ${job.error.hint}`));
        cell.append(box);
        detail.append(cell);
        body.append(detail);
      }
    }
  }

  // A failure's message as the worker wrote it leads with the storage key it read ("api-1f/uploads/up_…/ep1.mov:
  // no video stream"): the producer gets what is wrong, without the fleet's internal key.
  function forProducer(message) {
    return String(message || '').replace(/^[^\s:]*[/_][^\s:]*: /, '');
  }

  async function openTitle(prefix) {
    const title = await api(`/titles/${prefix}`);
    const version = title.versions.find((v) => v.live) || title.versions[0];
    location.assign(version.play);
  }

  function handleEvent(block) {
    let id = null;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (id) state.lastEventId = id;
    if (!data) return;
    const job = JSON.parse(data);
    state.jobs.set(job.job_id, job);
    renderJobs();
  }

  async function follow() {
    for (;;) {
      try {
        const headers = {Authorization: `Bearer ${state.token}`, Accept: 'text/event-stream'};
        if (state.lastEventId) headers['Last-Event-ID'] = state.lastEventId;
        const response = await fetch('/events', {headers});
        if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
        text($('#live'), 'live');
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            handleEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (err) {
        text($('#live'), 'reconnecting…');
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  window.vodfleetConsole = {
    jobs: () => [...state.jobs.values()],
    files: () => state.files.map((f) => ({name: f.file.name, role: f.role, language: f.language, check: f.check,
      checkError: f.checkError, uploaded: f.uploaded, resumedParts: f.resumedParts})),
    get puts() { return state.puts; },
    pauseAfter(n) { state.pauseAfter = n; },
    get extra() { return state.extra; },
    set extra(value) { state.extra = value; },
  };

  if (state.token) signIn(state.token);
})();
