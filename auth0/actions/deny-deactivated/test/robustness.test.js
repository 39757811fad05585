'use strict';
// The handler must never throw: an uncaught error in a post-login Action denies the login for
// every user. Each row is a weird shape and the decision it must lead to.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { DEFAULT_DENY_MESSAGE, buildUser, buildEvent, runAction } = require('./helpers.js');

const ALLOW = 'allow';
const DENY = 'deny';

// Values that are not plain objects, for any level of the path.
const NON_OBJECTS = [
  ['undefined', undefined],
  ['null', null],
  ['string', 'true'],
  ['empty string', ''],
  ['number', 1],
  ['NaN', Number.NaN],
  ['boolean true', true],
  ['array', []],
  ['array holding the flag', [{ deactivated: true }]],
  ['function', () => ({ deactivated: true })],
  ['symbol', Symbol('okta_sync')],
  ['bigint', 1n],
  ['Date', new Date('2024-05-02T09:14:01.862Z')],
];

function withUser(user, secrets = {}) {
  return buildEvent({ user, secrets });
}

const cases = [];

// event itself and event.user
cases.push(['event undefined', undefined, ALLOW]);
cases.push(['event null', null, ALLOW]);
cases.push(['event {}', {}, ALLOW]);
cases.push(['event is a string', 'event', ALLOW]);
for (const [label, value] of NON_OBJECTS) {
  cases.push([`event.user ${label}`, withUser(value), ALLOW]);
}
cases.push(['event.user {}', withUser({}), ALLOW]);

// event.user.app_metadata / user_metadata
for (const [label, value] of NON_OBJECTS) {
  cases.push([`app_metadata ${label}`, withUser(buildUser({ app_metadata: value, user_metadata: value })), ALLOW]);
}

// app_metadata.okta_sync
for (const [label, value] of NON_OBJECTS) {
  cases.push([`okta_sync ${label}`, withUser(buildUser({ app_metadata: { okta_sync: value } })), ALLOW]);
}

// okta_sync.deactivated: only boolean true denies
for (const [label, value] of [
  ...NON_OBJECTS,
  ['{}', {}],
  ['boolean false', false],
  ['number 0', 0],
  ['string "false"', 'false'],
]) {
  cases.push([
    `okta_sync.deactivated ${label}`,
    withUser(buildUser({ app_metadata: { okta_sync: { deactivated: value } } })),
    label === 'boolean true' ? DENY : ALLOW,
  ]);
}

// user_metadata.okta (legacy path)
for (const [label, value] of NON_OBJECTS) {
  cases.push([`user_metadata.okta ${label}`, withUser(buildUser({ user_metadata: { okta: value } })), ALLOW]);
}

// Prototype tricks: only own properties count.
cases.push([
  'flag only on the prototype of app_metadata',
  withUser(buildUser({ app_metadata: Object.create({ okta_sync: { deactivated: true } }) })),
  ALLOW,
]);
cases.push([
  'flag only on the prototype of okta_sync',
  withUser(buildUser({ app_metadata: { okta_sync: Object.create({ deactivated: true }) } })),
  ALLOW,
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
  '__proto__ key in parsed JSON metadata',
  withUser(buildUser({ app_metadata: JSON.parse('{"__proto__": {"okta_sync": {"deactivated": true}}}') })),
  ALLOW,
]);

// Secrets of the wrong type.
for (const [label, value] of NON_OBJECTS) {
  cases.push([
    `event.secrets ${label} (flagged user)`,
    withUser(buildUser({ app_metadata: { okta_sync: { deactivated: true } } }), value),
    DENY,
  ]);
}

// Getters that throw: still no exception out of the handler.
const explosive = {
  get user() {
    throw new Error('boom: user');
  },
};
cases.push(['event.user getter throws', explosive, ALLOW]);
cases.push([
  'event.user getter throws a non-Error value',
  {
    get user() {
      throw 'boom'; // eslint-disable-line no-throw-literal
    },
  },
  ALLOW,
]);
cases.push([
  'event.user getter throws an object whose own getters throw',
  {
    get user() {
      throw new Proxy({}, { getPrototypeOf() { throw new Error('boom: proto'); } });
    },
  },
  ALLOW,
]);
cases.push([
  'app_metadata getter throws',
  withUser({
    user_id: 'auth0|x',
    get app_metadata() {
      throw new TypeError('boom: app_metadata');
    },
  }),
  ALLOW,
]);
cases.push([
  'secrets is a Proxy that throws on every trap (defaults apply)',
  withUser(
    buildUser({ app_metadata: { okta_sync: { deactivated: true } } }),
    new Proxy({}, {
      get() { throw new Error('boom: get'); },
      has() { throw new Error('boom: has'); },
      getOwnPropertyDescriptor() { throw new Error('boom: gopd'); },
    })
  ),
  DENY,
]);

// user_id of odd types is never a problem for the log line.
for (const [label, value] of NON_OBJECTS) {
  cases.push([
    `user_id ${label} (flagged user)`,
    withUser(buildUser({ user_id: value, app_metadata: { okta_sync: { deactivated: true } } })),
    DENY,
  ]);
}

for (const [label, event, expected] of cases) {
  test(`never throws: ${label} -> ${expected}`, async () => {
    let run;
    await assert.doesNotReject(async () => {
      run = await runAction(event);
    });
    if (expected === DENY) {
      assert.deepEqual(run.denials, [DEFAULT_DENY_MESSAGE]);
    } else {
      assert.deepEqual(run.calls, []);
    }
    for (const line of run.logs) assert.ok(line.length < 200, 'log lines stay short');
  });
}
