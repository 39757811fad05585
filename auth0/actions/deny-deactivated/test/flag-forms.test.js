'use strict';
// Table: every recognised location x every container form x every value of `deactivated`.
// A value denies unless it is false, 0 or "false"/"0" (trimmed, any case), wherever the record
// is found and however it is stored.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { isDeepStrictEqual } = require('node:util');

const { DEFAULT_DENY_MESSAGE, syncRecord, buildUser, buildEvent, runAction } = require('./helpers.js');

// Values that must deny: flags in any spelling, and values that cannot be interpreted.
const DENY_VALUES = [
  true, 'true', 'TRUE', 'True', ' true\n', 'tRuE',
  1, '1', ' 1 ', 2, -1, 0.5, Infinity, -Infinity, Number.NaN,
  'yes', 'YES', 'y', 'on', 't', 'deactivated', 'no', 'off', 'false!', '"true"', '"false"',
  null, undefined, '', '   ', '{}', '[]',
  [], [true], [false], ['false'], {}, { value: false }, { deactivated: false },
];
// The only values that prove "not flagged".
const CLEAR_VALUES = [false, 0, -0, 'false', 'FALSE', 'False', ' false ', '\tfalse\n', '0', ' 0 '];

// Each location: the secrets in force, where the record goes, and whether it is a sync record
// (must hold `deactivated`) or the legacy `okta` object (may lack it).
const LOCATIONS = [
  { name: 'default app_metadata.okta_sync', secrets: {}, target: 'app_metadata', key: 'okta_sync', sync: true },
  {
    name: 'configured user_metadata["corp-okta"]',
    secrets: { METADATA_TARGET: 'user_metadata', METADATA_KEY: 'corp-okta' },
    target: 'user_metadata',
    key: 'corp-okta',
    sync: true,
  },
  {
    name: 'default key while a custom key is configured',
    secrets: { METADATA_KEY: 'corp_okta' },
    target: 'app_metadata',
    key: 'okta_sync',
    sync: true,
  },
  {
    name: 'default key while the target is user_metadata',
    secrets: { METADATA_TARGET: 'user_metadata' },
    target: 'app_metadata',
    key: 'okta_sync',
    sync: true,
  },
  {
    name: 'default key after invalid secrets fell back',
    secrets: { METADATA_TARGET: 'appmetadata', METADATA_KEY: 'okta.sync', HONOR_LEGACY_FLAG: 42 },
    target: 'app_metadata',
    key: 'okta_sync',
    sync: true,
  },
  { name: 'legacy user_metadata.okta', secrets: {}, target: 'user_metadata', key: 'okta', sync: false },
  {
    name: 'legacy user_metadata.okta with HONOR_LEGACY_FLAG="no"',
    secrets: { HONOR_LEGACY_FLAG: 'no' },
    target: 'user_metadata',
    key: 'okta',
    sync: false,
  },
];

const jsonSafe = (value) => {
  const text = JSON.stringify([value]);
  return text !== undefined && isDeepStrictEqual(JSON.parse(text)[0], value);
};

// How the record (and its container) is stored. `json` forms only take JSON-representable values.
const FORMS = [
  { name: 'full record object', build: (v) => ({ container: {}, record: syncRecord({ deactivated: v }) }) },
  { name: 'minimal record object', build: (v) => ({ container: {}, record: { deactivated: v } }) },
  {
    name: 'record with other keys missing or of the wrong type',
    build: (v) => ({
      container: {},
      record: { deactivated: v, okta_user_id: 5, event_type: [], published: null, synced_at: {}, blocked: 'x' },
    }),
  },
  {
    name: 'null-prototype record and container',
    build: (v) => ({
      container: Object.create(null),
      record: Object.assign(Object.create(null), { deactivated: v }),
    }),
  },
  { name: 'record stored as a JSON string', json: true, build: (v) => ({ container: {}, record: JSON.stringify(syncRecord({ deactivated: v })) }) },
  {
    name: 'record stored as an indented JSON string with surrounding whitespace',
    json: true,
    build: (v) => ({ container: {}, record: `\n  ${JSON.stringify({ deactivated: v }, null, 2)}  ` }),
  },
  {
    name: 'container stored as a JSON string',
    json: true,
    build: (v, location) => ({ containerJson: true, container: {}, record: { deactivated: v }, location }),
  },
];

function eventWith(location, form, value) {
  const built = form.build(value, location);
  const container = built.container;
  container.plan = 'enterprise'; // unrelated data next to the record
  container[location.key] = built.record;
  const user = buildUser({ [location.target]: built.containerJson ? JSON.stringify(container) : container });
  return buildEvent({ user, secrets: location.secrets });
}

for (const location of LOCATIONS) {
  describe(`location: ${location.name}`, () => {
    for (const form of FORMS) {
      test(`${form.name}: ${DENY_VALUES.length} deny values deny, ${CLEAR_VALUES.length} clear values allow`, async () => {
        let checked = 0;
        for (const value of DENY_VALUES) {
          if (form.json && !jsonSafe(value)) continue;
          const run = await runAction(eventWith(location, form, value));
          assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE], `deactivated=${String(value)} (${typeof value}) must deny`);
          checked++;
        }
        for (const value of CLEAR_VALUES) {
          if (form.json && !jsonSafe(value)) continue;
          const run = await runAction(eventWith(location, form, value));
          assert.deepEqual(run.calls, [], `deactivated=${JSON.stringify(value)} must allow`);
          checked++;
        }
        assert.ok(checked >= 30, 'the table was exercised');
      });
    }

    test(`record without deactivated ${location.sync ? 'denies (a sync record always has it)' : 'is clear (legacy object)'}`, async () => {
      for (const record of [{}, { okta_user_id: '00u1' }, '{}', '{"note":"x"}']) {
        const run = await runAction(buildEvent({ user: buildUser({ [location.target]: { [location.key]: record } }), secrets: location.secrets }));
        if (location.sync) assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE], JSON.stringify(record));
        else assert.deepEqual(run.calls, [], JSON.stringify(record));
      }
    });

    test('record that is present but not an object denies', async () => {
      for (const record of [true, false, 1, 0, 'true', 'false', '', 'x', '{broken', [], [{ deactivated: false }]]) {
        const run = await runAction(buildEvent({ user: buildUser({ [location.target]: { [location.key]: record } }), secrets: location.secrets }));
        assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE], JSON.stringify(record));
      }
    });

    test('record that is absent or null allows', async () => {
      for (const container of [{}, { [location.key]: null }, { [location.key]: undefined }, '{}', `{"${location.key}": null}`]) {
        const run = await runAction(buildEvent({ user: buildUser({ [location.target]: container }), secrets: location.secrets }));
        assert.deepEqual(run.calls, [], JSON.stringify(container));
      }
    });
  });
}

describe('locations that are not recognised are never read', () => {
  const cases = [
    ['user_metadata.okta_sync while the target is app_metadata', {}, { user_metadata: { okta_sync: { deactivated: true } } }],
    ['app_metadata.okta (legacy shape in the wrong place)', {}, { app_metadata: { okta: { deactivated: 'true' } } }],
    ['legacy flag with HONOR_LEGACY_FLAG="false"', { HONOR_LEGACY_FLAG: 'false' }, { user_metadata: { okta: { deactivated: 'true' } } }],
    ['legacy junk with HONOR_LEGACY_FLAG=" FALSE "', { HONOR_LEGACY_FLAG: ' FALSE ' }, { user_metadata: { okta: [1, 2] } }],
    ['a root attribute named like the key', {}, { okta_sync: { deactivated: true } }],
    ['the flag under another app_metadata key', {}, { app_metadata: { okta_sync_old: { deactivated: true } } }],
  ];
  for (const [label, secrets, overrides] of cases) {
    test(`${label} -> allowed`, async () => {
      const run = await runAction(buildEvent({ user: buildUser(overrides), secrets }));
      assert.deepEqual(run.calls, []);
    });
  }
});
