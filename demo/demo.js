// The demo page: picks the room (from ?room= or a random readable one), keeps the address and
// the share link in step with it, and shows what <rtc-call> reports: files, stats, events.

const $ = (id) => document.getElementById(id);
const call = $('call');
const form = $('settings');
const room = $('room');
const name = $('name');
const loopback = $('loopback');
const join = $('join');
const share = $('share');
const copyStatus = $('copy-status');

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'clever',
  'cosmic',
  'daring',
  'eager',
  'gentle',
  'golden',
  'happy',
  'jolly',
  'lucky',
  'mellow',
  'misty',
  'nimble',
  'quiet',
  'rapid',
  'sunny',
  'swift',
  'vivid',
  'witty',
  'zesty',
];
const NOUNS = [
  'badger',
  'cactus',
  'comet',
  'falcon',
  'harbor',
  'lantern',
  'maple',
  'meadow',
  'orbit',
  'otter',
  'panda',
  'pebble',
  'puffin',
  'quartz',
  'river',
  'rocket',
  'sparrow',
  'tiger',
  'tulip',
  'willow',
];

/** Crockford's base 32, in lower case: no i, l, o or u to misread. */
const TAIL = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A room name no one guesses that a person can still read out: two words, then 75 random bits
 * in three groups of five characters (`calm-otter-7kq2m-x9d4p-3hw8r`).
 */
function randomRoom() {
  const bytes = crypto.getRandomValues(new Uint8Array(17));
  const tail = [...bytes.subarray(2)].map((byte) => TAIL[byte % 32]).join('');
  const words = `${ADJECTIVES[bytes[0] % ADJECTIVES.length]}-${NOUNS[bytes[1] % NOUNS.length]}`;
  return `${words}-${tail.slice(0, 5)}-${tail.slice(5, 10)}-${tail.slice(10, 15)}`;
}

/** States in which the element holds the camera or a connection. */
const ACTIVE = new Set(['starting', 'ready', 'waiting', 'connecting', 'connected', 'reconnecting']);
const isActive = () => ACTIVE.has(call.state);

// ---------------------------------------------------------------------------------------------
// Room, name, loopback: from the address, onto the element, back into the address.
// ---------------------------------------------------------------------------------------------

const params = new URLSearchParams(location.search);
/**
 * The room this page made up, if any: whoever opens it has a lobby (they let in who comes by the
 * share link); whoever follows a link knocks.
 */
let created = params.get('room')?.trim() ? undefined : randomRoom();
room.value = params.get('room')?.trim() || created;
name.value = params.get('name') || '';
loopback.checked = params.has('loopback');

function shareLink() {
  const link = new URL(location.pathname, location.origin);
  link.search = new URLSearchParams({ room: call.room }).toString();
  return link.href;
}

/** Puts the form's values on the element and updates the address, the share link and the snippet. */
function apply() {
  call.room = room.value.trim();
  call.name = name.value.trim();
  call.loopback = loopback.checked;
  call.lobby = call.room === created;

  const link = shareLink();
  share.href = link;
  share.textContent = link;

  const query = new URLSearchParams({ room: call.room });
  if (call.name) query.set('name', call.name);
  // `&loopback` without a value, as links to the self-test have always been written.
  history.replaceState(null, '', `${location.pathname}?${query}${call.loopback ? '&loopback' : ''}`);

  join.textContent = call.loopback ? 'Start self-test' : 'Join room';
  $('embed').textContent =
    `<script type="module" src="${new URL('/rtc-call.js', location.origin).href}"></script>\n` +
    `<rtc-call room="${call.room.replace(/[&"<]/g, (c) => `&#${c.charCodeAt(0)};`)}" chat></rtc-call>`;
}
apply();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!room.value.trim()) {
    room.value = '';
    room.reportValidity();
    return;
  }
  const changed = room.value.trim() !== call.room || loopback.checked !== call.loopback;
  if (isActive() && !changed) return; // already in this room
  if (isActive()) await call.hangup();
  apply();
  // The element shows a failure itself (status line, rtc-call-error); nothing more to do here.
  call.call().catch(() => {});
});

$('random-room').addEventListener('click', () => {
  room.value = created = randomRoom();
  room.focus();
});

loopback.addEventListener('change', async () => {
  if (isActive()) await call.hangup();
  apply();
});

name.addEventListener('change', () => {
  if (!isActive()) apply();
});

// ---------------------------------------------------------------------------------------------
// Copy buttons: the Clipboard API, with visible feedback either way.
// ---------------------------------------------------------------------------------------------

let feedbackTimer;
function feedback(text, error = false) {
  clearTimeout(feedbackTimer);
  copyStatus.textContent = text;
  copyStatus.classList.toggle('error', error);
  feedbackTimer = setTimeout(() => (copyStatus.textContent = ''), 4000);
}

async function copy(text, button, done) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied ✓';
    done?.(true);
  } catch {
    button.textContent = 'Copy failed';
    done?.(false);
  }
  setTimeout(() => (button.textContent = label), 2000);
}

$('copy').addEventListener('click', (event) =>
  copy(shareLink(), event.currentTarget, (ok) =>
    ok
      ? feedback('Link copied — send it to the person you want to call.')
      : feedback('Could not copy here: select the link above and copy it.', true),
  ),
);
$('copy-embed').addEventListener('click', (event) => copy($('embed').textContent, event.currentTarget));

// ---------------------------------------------------------------------------------------------
// State badge and connection numbers.
// ---------------------------------------------------------------------------------------------

const badge = $('state');
function showState(state) {
  badge.textContent = state;
  badge.dataset.state = state;
  if (state !== 'connected' && state !== 'reconnecting') showStats(undefined);
}
customElements.whenDefined('rtc-call').then(() => showState(call.state));
call.addEventListener('rtc-call-state-change', ({ detail }) => showState(detail.state));

function bitrate(bits) {
  if (bits >= 1e6) return `${(bits / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bits / 1e3)} kbit/s`;
}

function showStats(stats) {
  const quality = $('stat-quality');
  quality.textContent = stats?.quality ?? '–';
  quality.dataset.quality = stats?.quality ?? '';
  $('stat-rtt').textContent = stats ? `${Math.round(stats.rtt)} ms` : '–';
  $('stat-bitrate').textContent = stats ? bitrate(stats.bitrate) : '–';
  $('stat-loss').textContent = stats ? `${(stats.packetLoss * 100).toFixed(1)} %` : '–';
  const routes = { direct: 'direct', reflexive: 'through NATs', relayed: 'TURN relay' };
  $('stat-route').textContent = stats ? (routes[stats.path] ?? stats.path) : '–';
  // Call → the first remote frame, as the WebRTC codelab logs it.
  $('stat-setup').textContent = stats?.setupTime === undefined ? '–' : `${stats.setupTime} ms`;
}
call.addEventListener('rtc-call-stats', ({ detail }) => showStats(detail));

// ---------------------------------------------------------------------------------------------
// Files: drop zone and file input → sendFile(), progress both ways, received files as links.
// ---------------------------------------------------------------------------------------------

const drop = $('drop');
const fileInput = $('file');
const fileStatus = $('file-status');
const transfers = new Map();

function size(bytes) {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function send(list) {
  if (!list?.length) return;
  fileStatus.textContent = '';
  for (const file of list) {
    call.sendFile(file).then(
      () => (fileStatus.textContent = `Sent ${file.name}.`),
      (error) =>
        (fileStatus.textContent =
          error?.code === 'not-connected'
            ? `Not sent: ${file.name} goes over the call — connect first.`
            : `Not sent: ${file.name} (${error?.message ?? error}).`),
    );
  }
}

fileInput.addEventListener('change', () => {
  send(fileInput.files);
  fileInput.value = '';
});
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
}
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  send(event.dataTransfer.files);
});
// A file dropped beside the zone must not navigate away from the call.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

call.addEventListener('rtc-call-file-progress', ({ detail: { name: fileName, size: total, bytes, direction } }) => {
  const key = `${direction}\n${fileName}\n${total}`;
  let row = transfers.get(key);
  if (!row || (row.done && bytes < total)) {
    const item = document.createElement('li');
    const label = document.createElement('div');
    label.className = 'transfer-label';
    const what = document.createElement('span');
    what.textContent = `${direction === 'send' ? 'Sending' : 'Receiving'} ${fileName}`;
    const amount = document.createElement('span');
    label.append(what, amount);
    const bar = document.createElement('progress');
    bar.max = total || 1;
    bar.setAttribute('aria-label', what.textContent);
    item.append(label, bar);
    $('transfers').append(item);
    $('transfers-box').hidden = false;
    row = { what, amount, bar, done: false };
    transfers.set(key, row);
  }
  row.bar.value = bytes;
  const percent = total ? Math.floor((bytes / total) * 100) : 100;
  row.amount.textContent = `${percent} % of ${size(total)}`;
  if (bytes >= total) {
    row.done = true;
    row.what.textContent = `${direction === 'send' ? 'Sent' : 'Received'} ${fileName}`;
  }
});

call.addEventListener('rtc-call-file', ({ detail: { file } }) => {
  const item = document.createElement('li');
  const link = document.createElement('a');
  // The peer chose the bytes: as application/octet-stream, the link downloads them, even opened
  // in a tab, and never shows them as a page of this origin.
  link.href = URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' }));
  link.download = file.name;
  link.textContent = file.name;
  item.append(link, ` (${size(file.size)})`);
  $('files').prepend(item);
  $('files-empty').hidden = true;
});

// ---------------------------------------------------------------------------------------------
// Event log: every rtc-call-* event, with its detail (progress only when a transfer ends, stats
// only when the quality changes: the numbers are in the Connection panel).
// ---------------------------------------------------------------------------------------------

const log = $('log');
const EVENTS = [
  'rtc-call-state-change',
  'rtc-call-local-stream',
  'rtc-call-remote-stream',
  'rtc-call-peer-joined',
  'rtc-call-peer-left',
  'rtc-call-knock',
  'rtc-call-peer-media',
  'rtc-call-message',
  'rtc-call-file-progress',
  'rtc-call-file',
  'rtc-call-stats',
  'rtc-call-error',
];

function describe(value) {
  if (value instanceof MediaStream) return `MediaStream(${value.getTracks().length} tracks)`;
  if (value instanceof File) return `File(${value.name}, ${size(value.size)})`;
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 79)}…` : json;
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 79)}…` : value);
  return String(value);
}

let lastQuality;
for (const type of EVENTS) {
  call.addEventListener(type, ({ detail = {} }) => {
    if (type === 'rtc-call-file-progress' && detail.bytes < detail.size) return;
    if (type === 'rtc-call-stats') {
      if (detail.quality === lastQuality) return;
      lastQuality = detail.quality;
    }
    if (type === 'rtc-call-state-change' && detail.state !== 'connected') lastQuality = undefined;
    const item = document.createElement('div');
    if (type === 'rtc-call-error') item.className = 'error';
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    const name = document.createElement('span');
    name.className = 'type';
    name.textContent = type;
    const text = Object.entries(detail)
      .map(([key, value]) => `${key}=${describe(value)}`)
      .join(' ');
    item.append(time, ' ', name, ' ', text);
    log.append(item);
    while (log.childElementCount > 200) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
  });
}
$('clear-log').addEventListener('click', () => log.replaceChildren());
