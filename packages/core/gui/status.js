// meshauth status page. Plain browser JavaScript, no framework, no build step.
//
// Every value from the API reaches the page through textContent or setAttribute, never innerHTML:
// a zone's last error or a token's Name holding markup is shown as the text it is.
//
// It polls every 2 s rather than using server-sent events: EventSource cannot send an
// Authorization header (a pasted token would have to travel in the URL, where access logs keep
// it), while fetch sends it like any API client. Polling also reuses the API's own routes and
// access checks unchanged, holds no connection per open page on the plane, and works through any
// proxy; every global replica answers GET /zones from the store, so whichever one answers a poll
// shows a zone that went offline within one interval (well inside 5 s).

const POLL_MS = 2000;
const TOKEN_KEY = 'meshauth.userToken';
const ANONYMOUS = 'mesh-system:anonymous';

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const response = await fetch(path, { headers, cache: 'no-store', credentials: 'omit' });
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  } catch (error) {
    return { status: 0, body: { detail: String(error && error.message ? error.message : error) } };
  }
}

// ---- formatting -------------------------------------------------------------------------------

function ago(iso) {
  if (!iso) return '—';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

/** A time as "12 s ago", the exact time in its tooltip and datetime attribute. */
function time(iso) {
  if (!iso) return '—';
  return el('time', { datetime: iso, title: new Date(iso).toLocaleString() }, ago(iso));
}

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60000)} min`;
}

/** A state in words with a symbol; the colour class only repeats it. */
function state(word, kind) {
  const symbol = { ok: '●', bad: '○', warn: '◐' }[kind] ?? '·';
  return el('span', { class: `state state-${kind}` }, `${symbol} ${word}`);
}

function table(columns, rows, rowAttributes = () => ({})) {
  const head = el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c.label))));
  const body = el(
    'tbody',
    {},
    rows.map((row) => el('tr', rowAttributes(row), columns.map((c) => el('td', { 'data-label': c.label, 'data-column': c.key, class: c.class }, c.value(row))))),
  );
  return el('table', {}, head, body);
}

function definitions(pairs) {
  return el('dl', {}, pairs.flatMap(([term, value, key]) => [el('dt', {}, term), el('dd', { 'data-field': key }, value)]));
}

// ---- sections ---------------------------------------------------------------------------------

let whoAmI = { name: ANONYMOUS, groups: [] };

/** Shows a section's data, or says in words why it cannot be shown. */
function show(id, what, result, render) {
  const section = $(id);
  const note = section.querySelector('.note');
  const body = section.querySelector('.body');
  if (result.status === 200) {
    note.hidden = true;
    body.replaceChildren(render(result.body));
    return;
  }
  const detail = result.body && result.body.detail ? ` (${result.body.detail})` : '';
  let text;
  if (result.status === 403 && whoAmI.name === ANONYMOUS) text = `Sign in with a user token to see ${what}.`;
  else if (result.status === 403) text = `Your user may not see ${what}${detail}.`;
  else if (result.status === 401) text = `The token was refused, so ${what} cannot be shown${detail}.`;
  else if (result.status === 0) text = `Could not reach the control plane${detail}; retrying every ${POLL_MS / 1000} s.`;
  else text = `Could not load ${what}: HTTP ${result.status}${detail}.`;
  note.textContent = text;
  note.className = result.status === 403 ? 'note' : 'note error';
  note.hidden = false;
  if (result.status !== 0) body.replaceChildren();
}

function renderZones(body) {
  if (body.items.length === 0) return el('p', { class: 'muted' }, 'No zone has connected yet.');
  const columns = [
    { key: 'zone', label: 'Zone', value: (z) => el('span', { class: 'mono' }, z.zone) },
    { key: 'state', label: 'State', value: (z) => (z.connected ? state('online', 'ok') : [state('offline', 'bad'), z.disconnectedAt ? el('span', { class: 'muted' }, ' since ', time(z.disconnectedAt)) : '']) },
    { key: 'mode', label: 'Mode', value: (z) => z.mode },
    { key: 'versionsBehind', label: 'Versions behind', class: 'num', value: (z) => (z.versionsBehind > 0 ? state(`${z.versionsBehind} behind`, 'warn') : '0') },
    { key: 'lag', label: 'Lag', class: 'num', value: (z) => duration(z.lagMs) },
    { key: 'lastAckAt', label: 'Last ack', value: (z) => time(z.lastAckAt) },
    { key: 'lastError', label: 'Last error', class: 'error', value: (z) => (z.lastError ? [z.lastError, ' ', el('span', { class: 'muted' }, '(', time(z.lastErrorAt), ')')] : '—') },
    { key: 'softwareVersion', label: 'Software', value: (z) => z.softwareVersion || '—' },
    { key: 'globalInstance', label: 'Stream held by', value: (z) => el('span', { class: 'mono' }, z.globalInstance === plane.instance ? `${z.globalInstance} (this replica)` : z.globalInstance) },
  ];
  const online = body.items.filter((z) => z.connected).length;
  return el('div', {}, el('p', {}, `${online} of ${body.items.length} zones online.`), table(columns, body.items, (z) => ({ 'data-zone': z.zone })));
}

function renderReplicas(body) {
  const columns = [
    { key: 'instance', label: 'Instance', value: (r) => el('span', { class: 'mono' }, r.instance === plane.instance ? `${r.instance} (this replica)` : r.instance) },
    { key: 'startedAt', label: 'Started', value: (r) => time(r.startedAt) },
    { key: 'lastSeenAt', label: 'Last seen', value: (r) => time(r.lastSeenAt) },
  ];
  return el('div', {}, el('p', {}, `${body.items.length} ${body.items.length === 1 ? 'replica' : 'replicas'} alive on this store.`), table(columns, body.items, (r) => ({ 'data-replica': r.instance })));
}

function renderSync(s) {
  const kind = s.state === 'connected' ? 'ok' : s.state === 'standby' || s.state === 'disabled' ? 'warn' : 'bad';
  const stats = s.stats ? `${s.stats.snapshots} snapshots, ${s.stats.deltas} deltas, ${s.stats.nacks} refused (nacked)` : '—';
  return definitions([
    ['State', state(s.state, kind), 'state'],
    ['Global address', el('span', { class: 'mono' }, s.globalAddress || '—'), 'globalAddress'],
    ['Mode (asked → effective)', `${s.mode} → ${s.effectiveMode ?? '—'}`, 'mode'],
    ['Leader', s.leader ? 'yes (holds the stream)' : 'no (standby replica)', 'leader'],
    ['Instance', el('span', { class: 'mono' }, s.instance), 'instance'],
    ['Applied version', s.globalVersion === null || s.globalVersion === undefined ? `${s.appliedVersion ?? '—'}` : `${s.appliedVersion} of ${s.globalVersion}`, 'appliedVersion'],
    ['Last contact', time(s.lastContactAt), 'lastContactAt'],
    ['Last sync', time(s.lastSyncAt), 'lastSyncAt'],
    ['Down policy', s.downPolicy ?? '—', 'downPolicy'],
    ['Batches received', stats, 'stats'],
    ['Reconnects', s.reconnects ?? '—', 'reconnects'],
    ['Last error', s.lastError ? el('span', { class: 'state-bad' }, s.lastError) : '—', 'lastError'],
  ]);
}

function renderKeys(body) {
  if (body.items.length === 0) return el('p', { class: 'muted' }, 'No user-token signing key.');
  const columns = [
    { key: 'serial', label: 'Serial', class: 'num', value: (k) => k.serial },
    { key: 'created', label: 'Created', value: (k) => time(k.createdAt) },
    { key: 'signs', label: 'Use', value: (k) => (k.signs ? state('signs new tokens', 'ok') : 'verifies only') },
    { key: 'origin', label: 'Origin', value: (k) => (k.origin === 'synced' ? 'synced from global' : 'local') },
    { key: 'private', label: 'Private key here', value: (k) => (k.hasPrivateKey ? 'yes' : 'no') },
  ];
  return table(columns, body.items, (k) => ({ 'data-serial': k.serial }));
}

function renderRevocations(body) {
  const count = el('p', { 'data-field': 'count' }, `${body.count} revoked ${body.count === 1 ? 'token' : 'tokens'}.`);
  if (body.items.length === 0) return count;
  const columns = [
    { key: 'jti', label: 'jti', value: (r) => el('span', { class: 'mono' }, r.jti) },
    { key: 'revokedAt', label: 'Revoked', value: (r) => time(r.revokedAt) },
    { key: 'expiresAt', label: 'Record kept until', value: (r) => (r.expiresAt ? new Date(r.expiresAt).toLocaleString() : 'removed by hand') },
  ];
  return el('div', {}, count, el('p', { class: 'muted' }, 'Most recent:'), table(columns, body.items));
}

function renderChanges(body) {
  if (body.items.length === 0) return el('p', { class: 'muted' }, `No change recorded (version ${body.version}).`);
  const describe = (c) => `${c.family} ${c.entity}${c.ref ? ` ${c.ref}` : ''} ${c.op}`;
  return el(
    'ul',
    { class: 'changes' },
    body.items.map((v) =>
      el('li', { 'data-version': v.version }, el('strong', {}, `version ${v.version}`), ' ', el('span', { class: 'muted' }, time(v.committedAt)), ': ',
        v.changes.length === 0 ? 'no item' : v.changes.map(describe).join('; '), v.more ? '; and more' : ''),
    ),
  );
}

function renderAudit(body) {
  if (body.items.length === 0) return el('p', { class: 'muted' }, 'No admin action recorded.');
  const columns = [
    { key: 'time', label: 'Time', class: 'nowrap', value: (a) => time(a.time) },
    { key: 'actor', label: 'Actor', class: 'wrap', value: (a) => [el('span', { class: 'mono' }, a.actor), a.actorGroups.length ? el('span', { class: 'muted' }, ` (${a.actorGroups.join(', ')})`) : ''] },
    { key: 'action', label: 'Action', class: 'nowrap', value: (a) => el('span', { class: 'mono' }, a.action) },
    { key: 'target', label: 'Target', class: 'wrap', value: (a) => a.target },
    { key: 'result', label: 'Result', class: 'wrap', value: (a) => (a.result.startsWith('refused') ? el('span', { class: 'state-bad' }, `○ ${a.result}`) : a.result) },
    { key: 'instance', label: 'Instance', value: (a) => el('span', { class: 'mono' }, a.instance === plane.instance ? `${a.instance} (this replica)` : a.instance) },
  ];
  return table(columns, body.items, (a) => ({ 'data-action': a.action }));
}

// ---- who is asking ----------------------------------------------------------------------------

function renderWhoAmI(result) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  $('token-forget').hidden = !token;
  const target = $('whoami');
  if (result.status === 401) {
    target.replaceChildren(state('token refused', 'bad'), ` ${result.body && result.body.detail ? result.body.detail : ''} Paste another token or forget this one.`);
    whoAmI = { name: ANONYMOUS, groups: [] };
    return;
  }
  if (result.status !== 200) return;
  whoAmI = result.body;
  const groups = whoAmI.groups.length ? whoAmI.groups.join(', ') : 'none';
  const how = token ? 'with the pasted user token' : whoAmI.name === ANONYMOUS ? 'not signed in: from here the API needs a user token' : "from the plane's own host (localhost rules)";
  target.replaceChildren(el('span', { class: 'mono', 'data-field': 'name' }, whoAmI.name), ` (groups: ${groups}), ${how}.`);
}

// ---- polling ----------------------------------------------------------------------------------

let plane = { plane: undefined, instance: undefined };

// Every 403 on an admin route is itself audited (access.refuse), so a refused read is asked once
// per credential, not every poll: a page left open by a user who may not see the signing keys or
// the audit log would otherwise append two entries to the audit log every 2 s. A read in flight is
// shared too (a pasted token starts a poll while the last may still run). Another token, Forget
// token, or a reload asks again.
const asked = new Map();

function read(path) {
  const key = `${sessionStorage.getItem(TOKEN_KEY) ?? ''} ${path}`;
  let answer = asked.get(key);
  if (!answer) {
    answer = api(path);
    asked.set(key, answer);
    void answer.then((result) => {
      if (result.status !== 403 && asked.get(key) === answer) asked.delete(key);
    });
  }
  return answer;
}

async function refresh() {
  const [root, who] = await Promise.all([api('/'), api('/who-am-i')]);
  renderWhoAmI(who);
  if (root.status === 200) {
    plane = root.body;
    const where = plane.plane === 'zone' ? `zone ${plane.zone}` : 'global';
    $('plane-title').textContent = where;
    document.title = `meshauth ${where}`;
    $('plane-summary').textContent = `${plane.plane} control plane · version ${plane.version} · store ${plane.store} · answered by instance ${plane.instance}`;
    for (const node of document.querySelectorAll('.global-only')) node.hidden = plane.plane !== 'global';
    for (const node of document.querySelectorAll('.zone-only')) node.hidden = plane.plane !== 'zone';
  } else {
    $('plane-summary').textContent = root.status === 0 ? `Control plane unreachable; retrying every ${POLL_MS / 1000} s.` : `GET / answered ${root.status}.`;
  }
  const planeSpecific =
    plane.plane === 'zone'
      ? [['sync', 'this zone’s sync status', '/sync/status', renderSync]]
      : [['replicas', 'the global replicas', '/replicas', renderReplicas], ['zones', 'the zones', '/zones', renderZones]];
  const sections = [...planeSpecific, ['keys', 'the signing keys', '/tokens/user/signing-keys', renderKeys], ['revocations', 'the revocations', '/tokens/user/revocations?limit=10', renderRevocations], ['changes', 'the recent changes', '/changes?limit=10', renderChanges], ['audit', 'the recent admin actions', '/audit?size=10', renderAudit]];
  if (plane.plane === undefined) sections.splice(0, planeSpecific.length);
  const results = await Promise.all(sections.map(([, , path]) => read(path)));
  sections.forEach(([id, what, , render], i) => show(id, what, results[i], render));
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`;
}

let timer;
async function loop() {
  clearTimeout(timer);
  try {
    await refresh();
  } finally {
    // One request set at a time: the next poll starts after this one ends.
    timer = setTimeout(loop, POLL_MS);
  }
}

async function searchJti(jti) {
  const result = await api(`/tokens/user/revocations?jti=${encodeURIComponent(jti)}`);
  const target = $('jti-result');
  if (result.status === 403) return void (target.textContent = `Your user may not see the revocations.`);
  if (result.status !== 200) return void (target.textContent = `Search failed: HTTP ${result.status} ${result.body && result.body.detail ? result.body.detail : ''}`);
  const [record] = result.body.items;
  if (!record) return void target.replaceChildren(state('not revoked', 'ok'), ' ', el('span', { class: 'mono' }, jti), ' is not revoked.');
  target.replaceChildren(state('revoked', 'bad'), ' ', el('span', { class: 'mono' }, record.jti), ' was revoked ', time(record.revokedAt), record.expiresAt ? `; the record is kept until ${new Date(record.expiresAt).toLocaleString()}.` : '.');
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('token-input');
  const token = input.value.trim().replace(/^Bearer\s+/i, '');
  input.value = '';
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  asked.clear();
  void loop();
});
$('token-forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  asked.clear();
  void loop();
});
$('jti-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const jti = $('jti-input').value.trim();
  if (jti) void searchJti(jti);
});

void loop();
