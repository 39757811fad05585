'use strict';
/**
 * Shared builders for the post-login Action tests: an `event` shaped like Auth0's post-login
 * event object, and an `api` mock that records every call.
 *
 * Note: `node --test` treats every .js file under a `test/` directory as a test file, so this
 * module is also run on its own. The self-checks at the bottom only run in that case
 * (require.main === module) and never when a test file requires the builders.
 */

const USER_ID = 'auth0|64f0c2a9e1b7d3f4a5c6b7d8';
const OKTA_USER_ID = '00u3m90rxKjGQ0G6L1d6';
const DEFAULT_DENY_MESSAGE = 'Your account has been deactivated. Contact your administrator.';

/** The record the Python sync writes under app_metadata.okta_sync (see the README contract). */
function syncRecord(overrides = {}) {
  return {
    deactivated: true,
    okta_user_id: OKTA_USER_ID,
    event_type: 'user.lifecycle.deactivate',
    event_uuid: 'ab62c0bc-2837-11eb-9823-9fb8f750c5a9',
    published: '2024-05-02T09:14:01.862Z',
    synced_at: '2024-05-02T09:14:03.120Z',
    blocked: true,
    ...overrides,
  };
}

/** The same record after a reactivation event. */
function reactivatedRecord(overrides = {}) {
  return syncRecord({
    deactivated: false,
    event_type: 'user.lifecycle.reactivate',
    event_uuid: 'c41f8e02-2901-11eb-a1c3-5d2e0b7f9a11',
    published: '2024-05-09T07:30:12.004Z',
    synced_at: '2024-05-09T07:30:13.551Z',
    blocked: false,
    ...overrides,
  });
}

/** The flag the original Okta Workflows template wrote (string "true" in user_metadata). */
function legacyUserMetadata() {
  return { okta: { deactivated: 'true' } };
}

/**
 * event.user. Pass `app_metadata` / `user_metadata` to set them; pass `undefined` explicitly
 * to drop the property altogether.
 */
function buildUser(overrides = {}) {
  return {
    user_id: USER_ID,
    email: 'jane.doe+ops@example.com',
    email_verified: true,
    name: 'Jane Doe',
    nickname: 'jane.doe',
    given_name: 'Jane',
    family_name: 'Doe',
    picture: 'https://s.gravatar.com/avatar/0f1e2d3c4b5a69788796a5b4c3d2e1f0?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fjd.png',
    created_at: '2023-08-31T14:02:17.381Z',
    updated_at: '2024-05-02T09:14:03.214Z',
    last_password_reset: '2024-01-15T10:00:00.000Z',
    phone_verified: false,
    multifactor: [],
    identities: [
      {
        connection: 'Username-Password-Authentication',
        provider: 'auth0',
        user_id: '64f0c2a9e1b7d3f4a5c6b7d8',
        isSocial: false,
      },
    ],
    app_metadata: {},
    user_metadata: {},
    ...overrides,
  };
}

/** A post-login event. `user` and `secrets` replace the defaults wholesale when given. */
function buildEvent({ user = buildUser(), secrets = {}, ...rest } = {}) {
  return {
    authentication: {
      methods: [{ name: 'pwd', timestamp: '2024-05-10T08:00:00.000Z' }],
    },
    authorization: { roles: [] },
    client: {
      client_id: 'k3Xq9ZbT1vN8wR2yL5mP7sD4fG6hJ0aC',
      name: 'Ops Portal',
      metadata: {},
    },
    connection: {
      id: 'con_Zq8Yh3nV5tB1xW7r',
      name: 'Username-Password-Authentication',
      strategy: 'auth0',
      metadata: {},
    },
    organization: undefined,
    request: {
      ip: '203.0.113.24',
      hostname: 'login.example.com',
      method: 'GET',
      language: 'en-AU',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
      geoip: {
        cityName: 'Brisbane',
        continentCode: 'OC',
        countryCode: 'AU',
        countryCode3: 'AUS',
        countryName: 'Australia',
        latitude: -27.4679,
        longitude: 153.0281,
        subdivisionCode: 'QLD',
        subdivisionName: 'Queensland',
        timeZone: 'Australia/Brisbane',
      },
      query: {
        client_id: 'k3Xq9ZbT1vN8wR2yL5mP7sD4fG6hJ0aC',
        response_type: 'code',
        scope: 'openid profile email',
        redirect_uri: 'https://ops.example.com/callback',
      },
    },
    resource_server: { identifier: 'https://api.example.com/' },
    stats: { logins_count: 42 },
    tenant: { id: 'example-prod' },
    transaction: {
      id: 'q0W9e8R7t6Y5u4I3o2P1a0S9d8F7g6H5',
      locale: 'en',
      protocol: 'oidc-basic-profile',
      requested_scopes: ['openid', 'profile', 'email'],
      redirect_uri: 'https://ops.example.com/callback',
      response_mode: 'query',
      response_type: ['code'],
      state: 'c2tpcC1tZS1pbS1hLXRlc3Qtc3RhdGU',
      ui_locales: [],
    },
    user,
    secrets,
    configuration: {},
    ...rest,
  };
}

// The post-login api namespaces and methods; all are recording no-ops here.
const API_SHAPE = {
  access: ['deny'],
  accessToken: ['addScope', 'removeScope', 'setCustomClaim'],
  authentication: ['challengeWith', 'challengeWithAny', 'enrollWith', 'enrollWithAny', 'recordMethod', 'setPrimaryUser'],
  cache: ['delete', 'get', 'set'],
  idToken: ['setCustomClaim'],
  multifactor: ['enable'],
  prompt: ['render'],
  redirect: ['encodeToken', 'sendUserTo', 'validateToken'],
  refreshToken: ['revoke', 'setExpiresAt', 'setIdleExpiresAt'],
  samlResponse: ['setAttribute'],
  session: ['revoke', 'setExpiresAt', 'setIdleExpiresAt'],
  user: ['setAppMetadata', 'setUserMetadata'],
  validation: ['error'],
};

/**
 * An api mock. `calls` lists every call in order as { method: "ns.name", args };
 * `denials` is the list of messages passed to api.access.deny.
 */
function buildApi() {
  const calls = [];
  const api = {};
  for (const [ns, methods] of Object.entries(API_SHAPE)) {
    api[ns] = {};
    for (const name of methods) {
      api[ns][name] = (...args) => {
        calls.push({ method: `${ns}.${name}`, args });
        return name === 'get' && ns === 'cache' ? undefined : api;
      };
    }
  }
  return {
    api,
    calls,
    get denials() {
      return calls.filter((c) => c.method === 'access.deny').map((c) => c.args[0]);
    },
  };
}

/**
 * Run the Action's handler with a fresh api mock, capturing console.log lines instead of
 * printing them. Resolves to { denials, calls, logs, result }; rejects if the handler throws.
 */
async function runAction(event, handler = require('../index.js').onExecutePostLogin) {
  const mock = buildApi();
  const logs = [];
  const originalLog = console.log;
  console.log = (...args) => {
    logs.push(args.map(String).join(' '));
  };
  let result;
  try {
    result = await handler(event, mock.api);
  } finally {
    console.log = originalLog;
  }
  return { denials: mock.denials, calls: mock.calls, logs, result };
}

/** Freeze an object graph so a test fails if the Action mutates the event. */
function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

module.exports = {
  USER_ID,
  OKTA_USER_ID,
  DEFAULT_DENY_MESSAGE,
  syncRecord,
  reactivatedRecord,
  legacyUserMetadata,
  buildUser,
  buildEvent,
  buildApi,
  runAction,
  deepFreeze,
};

if (require.main === module) {
  // Run as a test file by `node --test`: check the builders themselves.
  const { test } = require('node:test');
  const assert = require('node:assert/strict');

  test('helpers: buildEvent returns fresh, independent objects', () => {
    const a = buildEvent();
    const b = buildEvent();
    assert.notEqual(a.user, b.user);
    a.user.app_metadata.x = 1;
    assert.deepEqual(b.user.app_metadata, {});
  });

  test('helpers: buildUser can drop metadata with an explicit undefined', () => {
    const user = buildUser({ app_metadata: undefined });
    assert.equal(user.app_metadata, undefined);
    assert.deepEqual(user.user_metadata, {});
  });

  test('helpers: buildApi records calls and exposes denials', () => {
    const mock = buildApi();
    mock.api.idToken.setCustomClaim('k', 'v');
    mock.api.access.deny('nope');
    assert.deepEqual(mock.calls.map((c) => c.method), ['idToken.setCustomClaim', 'access.deny']);
    assert.deepEqual(mock.denials, ['nope']);
  });
}
