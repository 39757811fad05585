'use strict';
// Junk shapes along the recognised paths, throwing getters and proxies, prototype tricks, broken
// configuration, and errors in the runtime itself. The rule under test: undefined/null (or a
// missing key) is "no record"; anything on a recognised path that cannot be interpreted denies;
// an exception while deciding denies; the handler itself never throws (with a working api).

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { DEFAULT_DENY_MESSAGE, buildUser, buildEvent, runAction, buildApi } = require('./helpers.js');
const action = require('../index.js');

const ALLOW = 'allow';
const DENY = 'deny';

// Values that are not plain objects, for any level of the path, with what each means there:
// undefined/null are "nothing here"; a Date is an object without the key; the rest are junk.
const NON_OBJECTS = [
  ['undefined', undefined, 'absent'],
  ['null', null, 'absent'],
  ['string', 'true', 'junk'],
  ['empty string', '', 'junk'],
  ['string that is not a JSON object', '[{"deactivated":true}]', 'junk'],
  ['string with broken JSON', '{"deactivated": tru', 'junk'],
  ['number', 1, 'junk'],
  ['NaN', Number.NaN, 'junk'],
  ['boolean true', true, 'junk'],
  ['boolean false', false, 'junk'],
  ['array', [], 'junk'],
  ['array holding the flag', [{ deactivated: true }], 'junk'],
  ['function', () => ({ deactivated: true }), 'junk'],
  ['symbol', Symbol('okta_sync'), 'junk'],
  ['bigint', 1n, 'junk'],
  ['Date', new Date('2024-05-02T09:14:01.862Z'), 'empty object'],
];

function withUser(user, secrets = {}) {
  return buildEvent({ user, secrets });
}

// `target` (a fresh object by default) with an enumerable own getter `key` that throws.
function throwingGetter(key, error = new Error(`boom: ${key}`), target = {}) {
  return Object.defineProperty(target, key, {
    enumerable: true,
    get() {
      throw error;
    },
  });
}

const throwingProxy = () =>
  new Proxy({}, {
    get() { throw new Error('boom: get'); },
    has() { throw new Error('boom: has'); },
    ownKeys() { throw new Error('boom: ownKeys'); },
    getOwnPropertyDescriptor() { throw new Error('boom: gopd'); },
    getPrototypeOf() { throw new Error('boom: proto'); },
  });

const cases = [];

// event itself and event.user: absent -> no data -> allow; junk -> cannot tell -> deny.
cases.push(['event undefined', undefined, ALLOW]);
cases.push(['event null', null, ALLOW]);
cases.push(['event {}', {}, ALLOW]);
cases.push(['event is a string', 'event', DENY]);
for (const [label, value, kind] of NON_OBJECTS) {
  cases.push([`event.user ${label}`, withUser(value), kind === 'junk' ? DENY : ALLOW]);
}
cases.push(['event.user {}', withUser({}), ALLOW]);

// event.user.app_metadata / user_metadata
for (const [label, value, kind] of NON_OBJECTS) {
  cases.push([
    `app_metadata and user_metadata ${label}`,
    withUser(buildUser({ app_metadata: value, user_metadata: value })),
    kind === 'junk' ? DENY : ALLOW,
  ]);
  cases.push([
    `user_metadata ${label}, legacy check off`,
    withUser(buildUser({ user_metadata: value }), { HONOR_LEGACY_FLAG: 'false' }),
    ALLOW,
  ]);
}

// app_metadata.okta_sync: a sync record must hold `deactivated`, so even an empty object denies.
for (const [label, value, kind] of NON_OBJECTS) {
  cases.push([
    `okta_sync ${label}`,
    withUser(buildUser({ app_metadata: { okta_sync: value } })),
    kind === 'absent' ? ALLOW : DENY,
  ]);
}
cases.push(['okta_sync {}', withUser(buildUser({ app_metadata: { okta_sync: {} } })), DENY]);

// okta_sync.deactivated: only false, 0 and "false"/"0" are clear.
for (const [label, value] of [
  ...NON_OBJECTS,
  ['{}', {}],
  ['number 0', 0],
  ['number -0', -0],
  ['string "false"', 'false'],
  ['string "0"', '0'],
]) {
  const clear = value === false || value === 0 || value === 'false' || value === '0';
  cases.push([
    `okta_sync.deactivated ${label}`,
    withUser(buildUser({ app_metadata: { okta_sync: { deactivated: value } } })),
    clear ? ALLOW : DENY,
  ]);
}

// user_metadata.okta (legacy path): an object without `deactivated` is clear (Date included).
for (const [label, value, kind] of NON_OBJECTS) {
  cases.push([
    `user_metadata.okta ${label}`,
    withUser(buildUser({ user_metadata: { okta: value } })),
    kind === 'junk' ? DENY : ALLOW,
  ]);
}

// Prototype tricks: only own properties count, and none of them can produce an "allow".
cases.push([
  'flag only on the prototype of app_metadata (not user data)',
  withUser(buildUser({ app_metadata: Object.create({ okta_sync: { deactivated: true } }) })),
  ALLOW,
]);
cases.push([
  'flag only on the prototype of okta_sync: record without own deactivated',
  withUser(buildUser({ app_metadata: { okta_sync: Object.create({ deactivated: true }) } })),
  DENY,
]);
cases.push([
  '"clear" value only on the prototype of okta_sync',
  withUser(buildUser({ app_metadata: { okta_sync: { __proto__: { deactivated: false } } } })),
  DENY,
]);
cases.push([
  'parsed JSON record with an own "__proto__" key holding deactivated:false',
  withUser(buildUser({ app_metadata: { okta_sync: JSON.parse('{"__proto__": {"deactivated": false}}') } })),
  DENY,
]);
cases.push([
  'parsed JSON record with deactivated:true and a "__proto__" key saying false',
  withUser(buildUser({ app_metadata: { okta_sync: JSON.parse('{"deactivated": true, "__proto__": {"deactivated": false}}') } })),
  DENY,
]);
cases.push([
  'null-prototype objects holding the flag',
  withUser(
    buildUser({
      app_metadata: Object.assign(Object.create(null), {
        okta_sync: Object.assign(Object.create(null), { deactivated: true }),
      }),
    })
  ),
  DENY,
]);
cases.push([
  'null-prototype objects holding a clear record',
  withUser(
    buildUser({
      app_metadata: Object.assign(Object.create(null), {
        okta_sync: Object.assign(Object.create(null), { deactivated: false }),
      }),
    })
  ),
  ALLOW,
]);
cases.push([
  '__proto__ key in parsed JSON metadata (not a recognised location)',
  withUser(buildUser({ app_metadata: JSON.parse('{"__proto__": {"okta_sync": {"deactivated": true}}}') })),
  ALLOW,
]);
cases.push([
  'record with an own hasOwnProperty key',
  withUser(buildUser({ app_metadata: { okta_sync: { hasOwnProperty: () => false, deactivated: true } } })),
  DENY,
]);
cases.push([
  'metadata with an own hasOwnProperty key and a clear record',
  withUser(buildUser({ app_metadata: { hasOwnProperty: () => true, okta_sync: { deactivated: false } } })),
  ALLOW,
]);

// Secrets of the wrong type: defaults apply, for flagged and for clean users.
for (const [label, value] of [...NON_OBJECTS, ['throwing Proxy', throwingProxy()]]) {
  cases.push([
    `event.secrets ${label} (flagged user)`,
    withUser(buildUser({ app_metadata: { okta_sync: { deactivated: true } } }), value),
    DENY,
  ]);
  cases.push([
    `event.secrets ${label} (clean user)`,
    withUser(buildUser({ app_metadata: { okta_sync: { deactivated: false } } }), value),
    ALLOW,
  ]);
}
cases.push([
  'a secret getter that throws (flagged user)',
  withUser(buildUser({ app_metadata: { okta_sync: { deactivated: true } } }), throwingGetter('METADATA_KEY')),
  DENY,
]);

// Getters and proxies that throw on a recognised path: cannot decide -> deny.
cases.push(['event.user getter throws', throwingGetter('user'), DENY]);
cases.push([
  'event.user getter throws a non-Error value',
  {
    get user() {
      throw 'boom'; // eslint-disable-line no-throw-literal
    },
  },
  DENY,
]);
cases.push([
  'event.user getter throws an object whose own traps throw',
  {
    get user() {
      throw throwingProxy();
    },
  },
  DENY,
]);
cases.push(['event is a Proxy that throws on every trap', throwingProxy(), DENY]);
cases.push([
  'app_metadata getter throws',
  withUser(throwingGetter('app_metadata', new TypeError('boom: app_metadata'), { user_id: 'auth0|x' })),
  DENY,
]);
cases.push(['app_metadata is a throwing Proxy', withUser(buildUser({ app_metadata: throwingProxy() })), DENY]);
cases.push([
  'okta_sync getter throws',
  withUser(buildUser({ app_metadata: throwingGetter('okta_sync') })),
  DENY,
]);
cases.push([
  'deactivated getter throws',
  withUser(buildUser({ app_metadata: { okta_sync: throwingGetter('deactivated') } })),
  DENY,
]);
cases.push([
  'user_metadata getter throws (legacy check on)',
  withUser(throwingGetter('user_metadata', undefined, { user_id: 'auth0|x', app_metadata: {} })),
  DENY,
]);
cases.push([
  'user_metadata getter throws, legacy check off: never read',
  withUser(throwingGetter('user_metadata', undefined, { user_id: 'auth0|x', app_metadata: {} }), { HONOR_LEGACY_FLAG: 'false' }),
  ALLOW,
]);
cases.push([
  'a getter on an unrelated key throws: never read',
  withUser(buildUser({ app_metadata: throwingGetter('roles', undefined, { plan: 'x' }) })),
  ALLOW,
]);
cases.push([
  'user_id getter throws (clean user): log helper is never reached',
  withUser(throwingGetter('user_id', undefined, { app_metadata: {}, user_metadata: {} })),
  ALLOW,
]);
cases.push([
  'user_id getter throws (flagged user)',
  withUser(throwingGetter('user_id', undefined, { app_metadata: { okta_sync: { deactivated: true } } })),
  DENY,
]);

// user_id of odd types is never a problem for the log line.
for (const [label, value] of [...NON_OBJECTS, ['with a newline', 'auth0|a\n[deny-deactivated] fake'], ['long', 'x'.repeat(5000)]]) {
  cases.push([
    `user_id ${label} (flagged user)`,
    withUser(buildUser({ user_id: value, app_metadata: { okta_sync: { deactivated: true } } })),
    DENY,
  ]);
}

for (const [label, event, expected] of cases) {
  test(`${label} -> ${expected}`, async () => {
    let run;
    await assert.doesNotReject(async () => {
      run = await runAction(event);
    });
    if (expected === DENY) {
      assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE]);
      assert.equal(run.calls.length, 1, 'only api.access.deny is called');
    } else {
      assert.deepEqual(run.calls, []);
    }
    for (const line of run.logs) {
      assert.ok(line.length < 200, 'log lines stay short');
      assert.ok(!line.includes('\n'), 'log lines are single lines');
    }
  });
}

// ---- Global prototype pollution: inherited values are never user data. ----

test('Object.prototype polluted with "clear" values: flagged users are still denied', async () => {
  const polluted = { deactivated: false, okta_sync: { deactivated: false }, secrets: {}, HONOR_LEGACY_FLAG: 'false' };
  for (const [key, value] of Object.entries(polluted)) Object.prototype[key] = value; // eslint-disable-line no-extend-native
  try {
    for (const user of [
      buildUser({ app_metadata: { okta_sync: { deactivated: true } } }),
      buildUser({ app_metadata: { okta_sync: {} } }),
      buildUser({ user_metadata: { okta: { deactivated: 'true' } } }),
    ]) {
      const run = await runAction(buildEvent({ user }));
      assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE]);
    }
  } finally {
    for (const key of Object.keys(polluted)) delete Object.prototype[key];
  }
});

test('Object.prototype polluted with a flag: clean users are not denied by inherited data', async () => {
  const polluted = { deactivated: true, okta_sync: { deactivated: true }, okta: { deactivated: 'true' } };
  for (const [key, value] of Object.entries(polluted)) Object.prototype[key] = value; // eslint-disable-line no-extend-native
  try {
    const run = await runAction(buildEvent({ user: buildUser({ app_metadata: { okta_sync: { deactivated: false } } }) }));
    assert.deepEqual(run.calls, []);
  } finally {
    for (const key of Object.keys(polluted)) delete Object.prototype[key];
  }
});

// ---- Failures in the runtime around the decision. ----

test('an unexpected error inside the decision denies (api.access.deny runs on error)', async () => {
  const original = Set.prototype.has;
  Set.prototype.has = () => { // eslint-disable-line no-extend-native
    throw new Error('boom: Set.has');
  };
  let run;
  try {
    run = await runAction(buildEvent({ user: buildUser({ app_metadata: { okta_sync: { deactivated: false } } }) }));
  } finally {
    Set.prototype.has = original; // eslint-disable-line no-extend-native
  }
  assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE]);
  assert.match(run.logs.join('\n'), /reason=error error=Error/);
});

test('an unexpected error keeps a configured DENY_MESSAGE when it happens after the config', async () => {
  const original = Set.prototype.has;
  Set.prototype.has = () => { // eslint-disable-line no-extend-native
    throw new Error('boom');
  };
  let run;
  try {
    run = await runAction(buildEvent({ user: buildUser(), secrets: { DENY_MESSAGE: 'Nope.' } }));
  } finally {
    Set.prototype.has = original; // eslint-disable-line no-extend-native
  }
  assert.deepEqual(run.denials, ['Nope.']);
});

test('JSON.parse failing on a JSON-string record denies', async () => {
  const original = JSON.parse;
  JSON.parse = () => {
    throw new SyntaxError('boom');
  };
  let run;
  try {
    run = await runAction(buildEvent({ user: buildUser({ app_metadata: { okta_sync: '{"deactivated": false}' } }) }));
  } finally {
    JSON.parse = original;
  }
  assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE]);
});

test('console.log throwing changes nothing: flagged denied, clean allowed', async () => {
  const original = console.log;
  const denied = [];
  const api = { access: { deny: (m) => { denied.push(m); return api; } } };
  console.log = () => {
    throw new Error('boom: log');
  };
  try {
    await action.onExecutePostLogin(buildEvent({ user: buildUser({ app_metadata: { okta_sync: { deactivated: true } } }) }), api);
    await action.onExecutePostLogin(buildEvent({ user: buildUser(), secrets: { METADATA_KEY: 'bad.key' } }), api);
  } finally {
    console.log = original;
  }
  assert.deepEqual(denied, [DEFAULT_DENY_MESSAGE]);
});

test('api.access.deny throwing propagates, so Auth0 still denies the login', async () => {
  const api = { access: { deny: () => { throw new Error('boom: deny'); } } };
  const original = console.log;
  console.log = () => {};
  try {
    await assert.rejects(
      action.onExecutePostLogin(buildEvent({ user: buildUser({ app_metadata: { okta_sync: { deactivated: true } } }) }), api),
      /boom: deny/
    );
  } finally {
    console.log = original;
  }
});

test('api without access.deny: a flagged user makes the handler reject (Auth0 denies); a clean user does not', async () => {
  const original = console.log;
  console.log = () => {};
  try {
    await assert.rejects(
      action.onExecutePostLogin(buildEvent({ user: buildUser({ app_metadata: { okta_sync: { deactivated: true } } }) }), {})
    );
    await assert.doesNotReject(action.onExecutePostLogin(buildEvent({ user: buildUser() }), {}));
  } finally {
    console.log = original;
  }
});

test('several flags at once: api.access.deny is called exactly once', async () => {
  const user = buildUser({
    app_metadata: { okta_sync: { deactivated: true }, corp: { deactivated: 'true' } },
    user_metadata: { okta: { deactivated: 'true' } },
  });
  const mock = buildApi();
  const original = console.log;
  console.log = () => {};
  try {
    await action.onExecutePostLogin(buildEvent({ user, secrets: { METADATA_KEY: 'corp' } }), mock.api);
  } finally {
    console.log = original;
  }
  assert.equal(mock.denials.length, 1);
});
