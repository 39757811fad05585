'use strict';
// Property tests over random, malformed metadata shapes from a seeded PRNG (reproducible; no
// dependencies). Properties:
//   1. onExecutePostLogin never throws (with a working api) and calls nothing but access.deny,
//      at most once, whatever the event looks like;
//   2. a flag in any recognised form at any recognised location always denies, whatever else
//      the user and the secrets hold;
//   3. a clean user (every recognised location absent, null or clear) is always allowed, whatever
//      junk sits anywhere else.
// Override with FUZZ_SEED=<int> FUZZ_RUNS=<int>. A failure message names the seed and the case.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { inspect } = require('node:util');

const { DEFAULT_DENY_MESSAGE, runAction } = require('./helpers.js');

const SEED = Number.parseInt(process.env.FUZZ_SEED || '20240502', 10);
const RUNS = Number.parseInt(process.env.FUZZ_RUNS || '1500', 10);

// mulberry32: a tiny seeded PRNG, uniform in [0, 1).
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed) {
  const rand = prng(seed);
  const int = (n) => Math.floor(rand() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => rand() < p;

  const randomCase = (s) => [...s].map((c) => (chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  const pad = (s) => pick(['', ' ', '\t', '\n', '  ']) + s + pick(['', ' ', '\n', '\r\n']);
  const randomString = () => {
    const alphabet = 'abcxyz01{}[]":,. $_-\u0000\u00e9\u2028';
    return Array.from({ length: int(12) }, () => alphabet[int(alphabet.length)]).join('');
  };

  // Keys for junk objects, including prototype-pollution shapes and the recognised names.
  const KEYS = ['deactivated', 'okta_sync', 'okta', 'corp_okta', 'app_metadata', 'user_metadata', 'user',
    'blocked', 'event_type', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
    'valueOf', 'length', '0', ''];

  const SCALARS = [undefined, null, true, false, 0, -0, 1, -1, 42, 0.5, Number.NaN, Infinity, '', ' ',
    'true', 'false', 'TRUE', '1', '0', 'yes', 'no', '{', '{}', '[]', 'null', '{"deactivated":true}',
    '{"deactivated":false}', '__proto__', 'x'.repeat(300)];

  // Own property, even for "__proto__" (as JSON.parse would create it).
  const setOwn = (obj, key, value) =>
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });

  function throwing() {
    return pick([
      () => Object.defineProperty({}, pick(KEYS), { enumerable: true, get() { throw new Error('boom'); } }),
      () => new Proxy({}, { get() { throw new Error('boom'); }, getOwnPropertyDescriptor() { throw new Error('boom'); }, ownKeys() { throw new Error('boom'); } }),
      () => new Proxy({ deactivated: true }, { getPrototypeOf() { throw new Error('boom'); } }),
    ])();
  }

  // Any value at all, possibly nested; `wild` allows throwing getters and proxies.
  function junk(depth = 2, wild = true) {
    const roll = int(10);
    if (roll < 4 || depth <= 0) return chance(0.8) ? pick(SCALARS) : randomString();
    if (roll === 4) return pick([Symbol('s'), 1n, () => true, new Date(0), /x/, new Map(), Object.create({ deactivated: true })]);
    if (roll === 5 && wild) return throwing();
    if (roll === 6) return Array.from({ length: int(3) }, () => junk(depth - 1, wild));
    const obj = chance(0.2) ? Object.create(null) : {};
    for (let i = int(4); i > 0; i--) setOwn(obj, chance(0.7) ? pick(KEYS) : randomString(), junk(depth - 1, wild));
    if (chance(0.15)) {
      try {
        return JSON.stringify(obj) ?? obj; // a JSON string of an object, where representable
      } catch {
        return obj;
      }
    }
    return obj;
  }

  // ---- `deactivated` values ----
  const FLAG_STRINGS = ['true', '1', 'yes', 'y', 'on', 't', 'deactivated', 'no', 'off', '"true"', 'truee', ''];
  function flagValue() {
    return pick([
      () => true,
      () => pad(randomCase(pick(FLAG_STRINGS))),
      () => pick([1, -1, 2, 0.1, 1e9, Infinity, -Infinity, Number.NaN]),
      () => pick([null, undefined, [], [false], {}, { deactivated: false }, 'false!', 'fals', '00']),
      () => junk(1, false), // may by chance be clear: filtered out by isClear below
    ])();
  }
  function clearValue() {
    return pick([() => false, () => 0, () => -0, () => pad(randomCase('false')), () => pad('0')])();
  }
  // The spec, written independently of index.js: only these values clear a user.
  function isClear(value) {
    if (value === false || value === 0) return true;
    return typeof value === 'string' && ['false', '0'].includes(value.trim().toLowerCase());
  }

  // ---- configuration ----
  function secrets() {
    const s = {};
    const effective = { target: 'app_metadata', key: 'okta_sync', legacy: true, message: DEFAULT_DENY_MESSAGE };
    if (chance(0.6)) {
      const valid = chance(0.5);
      s.METADATA_TARGET = valid ? pick(['app_metadata', 'user_metadata', ' user_metadata\n']) : pick(['', ' ', 'APP_METADATA', 'identities', '__proto__', 42, null, true, {}]);
      if (valid) effective.target = s.METADATA_TARGET.trim();
    }
    if (chance(0.6)) {
      const valid = chance(0.5);
      s.METADATA_KEY = valid ? pick(['okta_sync', 'corp_okta', 'okta-sync-v2', 'k', ' corp_okta ']) : pick(['', '  ', 'a.b', '$x', '__proto__', 'constructor', 'prototype', 'x'.repeat(101), 7, [], null]);
      if (valid) effective.key = s.METADATA_KEY.trim();
    }
    if (chance(0.5)) {
      const off = chance(0.4);
      s.HONOR_LEGACY_FLAG = off ? pad(randomCase('false')) : pick(['true', '', 'no', '0', 'off', false, 0, null, 'falsey']);
      effective.legacy = !off;
    }
    if (chance(0.3)) {
      s.DENY_MESSAGE = pick(['', '   ', 'Nope.', ' Access revoked \n', 5, null]);
      if (typeof s.DENY_MESSAGE === 'string' && s.DENY_MESSAGE.trim()) effective.message = s.DENY_MESSAGE.trim();
    }
    if (chance(0.2)) setOwn(s, pick(KEYS), junk(1, false));
    if (chance(0.05)) {
      // Unusable secrets: every default applies.
      return { secrets: pick([undefined, null, 'x', [], 7]), effective: { target: 'app_metadata', key: 'okta_sync', legacy: true, message: DEFAULT_DENY_MESSAGE } };
    }
    return { secrets: s, effective };
  }

  function recognised(effective) {
    const list = [
      { target: effective.target, key: effective.key, sync: true },
      { target: 'app_metadata', key: 'okta_sync', sync: true },
    ];
    if (effective.legacy) list.push({ target: 'user_metadata', key: 'okta', sync: false });
    return list.filter((l, i) => list.findIndex((m) => m.target === l.target && m.key === l.key) === i);
  }

  // A metadata object with junk under keys that are not recognised locations for it.
  function metadata(target, locations) {
    const taken = new Set(locations.filter((l) => l.target === target).map((l) => l.key));
    const obj = chance(0.2) ? Object.create(null) : {};
    for (let i = int(5); i > 0; i--) {
      const key = chance(0.6) ? pick(KEYS) : randomString();
      if (!taken.has(key)) setOwn(obj, key, junk(2));
    }
    return obj;
  }

  // Serialise a record or container as JSON when that keeps its meaning.
  function maybeJson(value, probability) {
    if (!chance(probability)) return value;
    try {
      const text = JSON.stringify(value);
      if (text === undefined || !text.startsWith('{')) return value;
      return pad(text);
    } catch {
      return value;
    }
  }
  const jsonKeepsMeaning = (value) => {
    try {
      const text = JSON.stringify({ v: value });
      const back = JSON.parse(text);
      return Object.hasOwn(back, 'v') && isClear(back.v) === isClear(value);
    } catch {
      return false;
    }
  };

  // A record whose `deactivated` is `value`, with random other keys of random types.
  function record(value) {
    const rec = chance(0.2) ? Object.create(null) : {};
    for (const key of ['okta_user_id', 'event_type', 'event_uuid', 'published', 'synced_at', 'blocked']) {
      if (chance(0.6)) rec[key] = chance(0.5) ? junk(1, false) : 'x';
    }
    if (chance(0.15)) setOwn(rec, '__proto__', { deactivated: !value });
    setOwn(rec, 'deactivated', value);
    return jsonKeepsMeaning(value) ? maybeJson(rec, 0.25) : rec;
  }

  // A clear state for a location: absent, null, or a record that proves "not flagged".
  function clearRecord(location) {
    return pick([
      () => undefined,
      () => null,
      () => record(clearValue()),
      // legacy: an object without `deactivated`, as the sync's reactivation leaves it
      () => (location.sync ? record(clearValue()) : maybeJson(metadata('x', [{ target: 'x', key: 'deactivated' }]), 0.2)),
    ])();
  }

  // A flagged state for a location: any non-clear `deactivated`, a sync record without it, or a
  // present record that is not an object.
  function flaggedRecord(location) {
    const roll = int(10);
    if (roll < 6) {
      let value = flagValue();
      while (isClear(value)) value = flagValue();
      return record(value);
    }
    if (roll < 8 && location.sync) {
      const rec = record(true);
      if (typeof rec === 'string') return rec.replace('"deactivated"', '"deactivated_"');
      delete rec.deactivated;
      return rec;
    }
    return pick([true, 1, 'true', 'x', '', '{oops', [], [{ deactivated: false }], Number.NaN, () => false, Symbol('x')]);
  }

  function userWith(locations, place) {
    const user = { user_id: chance(0.9) ? `auth0|${int(1e9)}` : junk(1), email: 'x@example.com' };
    for (const target of ['app_metadata', 'user_metadata']) {
      if (chance(0.9) || locations.some((l) => l.target === target)) user[target] = metadata(target, locations);
    }
    for (const location of locations) {
      if (!user[location.target]) user[location.target] = {};
      const value = place(location);
      if (value !== undefined || chance(0.3)) setOwn(user[location.target], location.key, value);
    }
    for (const target of ['app_metadata', 'user_metadata']) {
      if (user[target] && locations.every((l) => jsonKeepsMeaningDeep(user[target], l))) user[target] = maybeJson(user[target], 0.1);
    }
    for (let i = int(3); i > 0; i--) {
      const key = pick(['identities', 'blocked', 'name', 'okta_sync', 'okta', '__proto__', 'constructor']);
      setOwn(user, key, junk(2));
    }
    return user;
  }
  // Turning a whole metadata object into JSON must keep each recognised record's meaning.
  function jsonKeepsMeaningDeep(container, location) {
    try {
      const rec = Object.hasOwn(container, location.key) ? container[location.key] : undefined;
      if (rec === undefined || rec === null || typeof rec === 'string') return true;
      if (typeof rec !== 'object' || Array.isArray(rec)) return false;
      return Object.hasOwn(rec, 'deactivated') ? jsonKeepsMeaning(rec.deactivated) : true;
    } catch {
      return false; // a throwing getter or proxy: keep it as it is
    }
  }

  return {
    int,
    pick,
    chance,
    junk,
    secrets,
    recognised,
    userWith,
    flaggedRecord,
    clearRecord,
    metadata,
  };
}

function show(event) {
  try {
    return inspect(event, { depth: 6, showProxy: true, breakLength: Infinity }).slice(0, 2000);
  } catch {
    return '<cannot inspect>';
  }
}

async function run(event) {
  let result;
  await assert.doesNotReject(async () => {
    result = await runAction(event);
  }, `threw on ${show(event)}`);
  return result;
}

test(`fuzz: never throws, at most one access.deny and no other api call (seed ${SEED}, ${RUNS} runs)`, async () => {
  const g = generator(SEED);
  for (let i = 0; i < RUNS; i++) {
    const shape = g.int(4);
    let event;
    if (shape === 0) event = g.junk(4);
    else if (shape === 1) event = { user: g.junk(4), secrets: g.junk(2) };
    else if (shape === 2) event = { user: { app_metadata: g.junk(3), user_metadata: g.junk(3), user_id: g.junk(1) }, secrets: g.secrets().secrets };
    else {
      const { secrets, effective } = g.secrets();
      const locations = g.recognised(effective);
      event = { user: g.userWith(locations, () => g.junk(3)), secrets };
    }
    const result = await run(event);
    const where = `seed=${SEED} case=${i}: ${show(event)}`;
    assert.ok(result.calls.every((c) => c.method === 'access.deny'), where);
    assert.ok(result.calls.length <= 1, where);
    for (const line of result.logs) assert.ok(!line.includes('\n') && line.length < 400, where);
  }
});

test(`fuzz: a flag in any recognised form always denies (seed ${SEED + 1}, ${RUNS} runs)`, async () => {
  const g = generator(SEED + 1);
  for (let i = 0; i < RUNS; i++) {
    const { secrets, effective } = g.secrets();
    const locations = g.recognised(effective);
    const flagged = g.pick(locations);
    // Every other recognised location: anything (absent, clear, flagged, junk).
    const user = g.userWith(locations, (location) => {
      if (location === flagged) return g.flaggedRecord(location);
      return g.pick([() => undefined, () => g.clearRecord(location), () => g.flaggedRecord(location), () => g.junk(2)])();
    });
    const event = { user, secrets, request: g.junk(1) };
    const result = await run(event);
    const where = `seed=${SEED + 1} case=${i} flag at ${flagged.target}.${flagged.key}: ${show(event)}`;
    assert.deepEqual(result.denials, [effective.message], where);
    assert.equal(result.calls.length, 1, where);
  }
});

test(`fuzz: a clean user is always allowed (seed ${SEED + 2}, ${RUNS} runs)`, async () => {
  const g = generator(SEED + 2);
  for (let i = 0; i < RUNS; i++) {
    const { secrets, effective } = g.secrets();
    const locations = g.recognised(effective);
    const user = g.userWith(locations, (location) => g.clearRecord(location));
    // Flags at places that are not recognised must not matter.
    const decoys = [['app_metadata', 'okta'], ['user_metadata', 'okta_sync'], ['app_metadata', 'okta_sync_old'], ['user_metadata', 'okta']]
      .filter(([target, key]) => !locations.some((l) => l.target === target && l.key === key));
    for (const [target, key] of decoys) {
      if (g.chance(0.5) && user[target] && typeof user[target] === 'object') user[target][key] = g.flaggedRecord({ sync: true });
    }
    const event = { user, secrets };
    const result = await run(event);
    assert.deepEqual(result.calls, [], `seed=${SEED + 2} case=${i}: ${show(event)}`);
  }
});

test('the PRNG is deterministic and spreads values', () => {
  const a = prng(42);
  const b = prng(42);
  const first = Array.from({ length: 1000 }, a);
  assert.deepEqual(first, Array.from({ length: 1000 }, b));
  assert.ok(first.every((x) => x >= 0 && x < 1));
  const buckets = new Array(10).fill(0);
  for (const x of first) buckets[Math.floor(x * 10)]++;
  assert.ok(buckets.every((n) => n > 60 && n < 140), `buckets ${buckets}`);
});
