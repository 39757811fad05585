'use strict';
// Behaviour of the deny decision with the default configuration and the documented secrets.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');

const action = require('../index.js');
const {
  USER_ID,
  DEFAULT_DENY_MESSAGE,
  syncRecord,
  reactivatedRecord,
  legacyUserMetadata,
  buildUser,
  buildEvent,
  runAction,
  deepFreeze,
} = require('./helpers.js');

function eventFor(userOverrides, secrets = {}) {
  return buildEvent({ user: buildUser(userOverrides), secrets });
}

async function assertDenied(event, message = DEFAULT_DENY_MESSAGE) {
  const run = await runAction(event);
  assert.deepEqual(run.denials, [message], 'denied exactly once with the expected message');
  assert.deepEqual(run.calls.map((c) => c.method), ['access.deny'], 'no other api call');
  return run;
}

async function assertAllowed(event) {
  const run = await runAction(event);
  assert.deepEqual(run.calls, [], 'no api call at all');
  return run;
}

describe('module', () => {
  test('exports an async onExecutePostLogin handler', () => {
    assert.equal(typeof action.onExecutePostLogin, 'function');
    assert.equal(action.onExecutePostLogin.constructor.name, 'AsyncFunction');
  });
});

describe('sync flag (default target app_metadata, key okta_sync)', () => {
  test('flagged user is denied once with the default message', async () => {
    const run = await assertDenied(eventFor({ app_metadata: { okta_sync: syncRecord() } }));
    assert.equal(run.result, undefined);
  });

  test('other app_metadata keys do not interfere', async () => {
    await assertDenied(
      eventFor({ app_metadata: { plan: 'enterprise', roles: ['ops'], okta_sync: syncRecord() } })
    );
  });

  test('a minimal record with only deactivated:true is enough', async () => {
    await assertDenied(eventFor({ app_metadata: { okta_sync: { deactivated: true } } }));
  });

  test('user without any flag is allowed', async () => {
    await assertAllowed(eventFor({ app_metadata: { plan: 'enterprise' }, user_metadata: { theme: 'dark' } }));
  });

  test('reactivated user (deactivated:false) is allowed', async () => {
    await assertAllowed(eventFor({ app_metadata: { okta_sync: reactivatedRecord() } }));
  });

  test('record without a deactivated field is denied (the sync always writes it)', async () => {
    const record = syncRecord();
    delete record.deactivated;
    const run = await assertDenied(eventFor({ app_metadata: { okta_sync: record } }));
    assert.match(run.logs.join('\n'), /reason=sync_unreadable at=app_metadata\.okta_sync/);
  });

  for (const value of ['true', 'TRUE', 1, '1', 'yes', [true], { value: true }]) {
    test(`non-boolean deactivated ${JSON.stringify(value)} under okta_sync is denied`, async () => {
      await assertDenied(eventFor({ app_metadata: { okta_sync: syncRecord({ deactivated: value }) } }));
    });
  }

  for (const value of [false, 'false', 'FALSE', 0, '0']) {
    test(`reactivated record with deactivated ${JSON.stringify(value)} is allowed`, async () => {
      await assertAllowed(eventFor({ app_metadata: { okta_sync: reactivatedRecord({ deactivated: value }) } }));
    });
  }

  test('flag in user_metadata is ignored while the target is app_metadata', async () => {
    await assertAllowed(eventFor({ app_metadata: {}, user_metadata: { okta_sync: syncRecord() } }));
  });

  test('blocked:true inside the record alone does not deny (Auth0 core enforces the root blocked)', async () => {
    await assertAllowed(
      eventFor({ app_metadata: { okta_sync: syncRecord({ deactivated: false, blocked: true }) } })
    );
  });
});

describe('no metadata at all', () => {
  for (const [label, overrides] of [
    ['app_metadata and user_metadata undefined', { app_metadata: undefined, user_metadata: undefined }],
    ['app_metadata and user_metadata null', { app_metadata: null, user_metadata: null }],
    ['app_metadata and user_metadata {}', { app_metadata: {}, user_metadata: {} }],
  ]) {
    test(`${label} -> allowed`, async () => {
      await assertAllowed(eventFor(overrides));
    });
  }

  test('metadata properties absent from the user object -> allowed', async () => {
    const user = buildUser();
    delete user.app_metadata;
    delete user.user_metadata;
    await assertAllowed(buildEvent({ user }));
  });
});

describe('METADATA_TARGET=user_metadata', () => {
  const secrets = { METADATA_TARGET: 'user_metadata' };

  test('flag in user_metadata is denied', async () => {
    await assertDenied(eventFor({ user_metadata: { okta_sync: syncRecord() } }, secrets));
  });

  test('flag at the default app_metadata.okta_sync still denies (always checked)', async () => {
    const run = await assertDenied(eventFor({ app_metadata: { okta_sync: syncRecord() } }, secrets));
    assert.match(run.logs.join('\n'), /at=app_metadata\.okta_sync/);
  });

  test('a flag in app_metadata under another key is not read', async () => {
    await assertAllowed(eventFor({ app_metadata: { other: syncRecord() } }, secrets));
  });

  test('reactivated record in user_metadata is allowed', async () => {
    await assertAllowed(eventFor({ user_metadata: { okta_sync: reactivatedRecord() } }, secrets));
  });
});

describe('legacy flag user_metadata.okta.deactivated === "true"', () => {
  test('denies by default', async () => {
    const run = await assertDenied(eventFor({ user_metadata: legacyUserMetadata() }));
    assert.match(run.logs.join('\n'), /reason=legacy_flag/);
  });

  test('denies when HONOR_LEGACY_FLAG has any value other than "false"', async () => {
    for (const value of ['true', '1', 'yes', '', 'off?']) {
      await assertDenied(eventFor({ user_metadata: legacyUserMetadata() }, { HONOR_LEGACY_FLAG: value }));
    }
  });

  test('is ignored when HONOR_LEGACY_FLAG="false"', async () => {
    await assertAllowed(eventFor({ user_metadata: legacyUserMetadata() }, { HONOR_LEGACY_FLAG: 'false' }));
  });

  test('"false" is matched case-insensitively and trimmed', async () => {
    for (const value of ['FALSE', 'False', ' false\n']) {
      await assertAllowed(eventFor({ user_metadata: legacyUserMetadata() }, { HONOR_LEGACY_FLAG: value }));
    }
  });

  test('HONOR_LEGACY_FLAG="false" does not switch off the sync flag', async () => {
    await assertDenied(
      eventFor({ app_metadata: { okta_sync: syncRecord() } }, { HONOR_LEGACY_FLAG: 'false' })
    );
  });

  test('legacy flag still denies when the sync record says deactivated:false (deny wins)', async () => {
    await assertDenied(
      eventFor({ app_metadata: { okta_sync: reactivatedRecord() }, user_metadata: legacyUserMetadata() })
    );
  });

  test('other keys next to the legacy flag do not matter', async () => {
    await assertDenied(
      eventFor({ user_metadata: { theme: 'dark', okta: { deactivated: 'true', note: 'x' } } })
    );
  });

  for (const value of [true, 'True', 'TRUE', ' true', 1, '1', 'yes', null, '', 'maybe']) {
    test(`any value but a clear one denies: ${JSON.stringify(value)} -> denied`, async () => {
      await assertDenied(eventFor({ user_metadata: { okta: { deactivated: value } } }));
    });
  }

  for (const value of [false, 'false', 'False', 0, '0']) {
    test(`clear value ${JSON.stringify(value)} -> allowed`, async () => {
      await assertAllowed(eventFor({ user_metadata: { okta: { deactivated: value } } }));
    });
  }

  test('okta object left by the sync\'s reactivation (deactivated removed, other keys kept) -> allowed', async () => {
    await assertAllowed(eventFor({ user_metadata: { okta: { note: 'x' } } }));
  });

  test('legacy-shaped flag in app_metadata is not the legacy flag', async () => {
    await assertAllowed(eventFor({ app_metadata: { okta: { deactivated: 'true' } } }));
  });

  test('flagged by both mechanisms -> denied once, reason sync_flag', async () => {
    const run = await assertDenied(
      eventFor({ app_metadata: { okta_sync: syncRecord() }, user_metadata: legacyUserMetadata() })
    );
    assert.match(run.logs.join('\n'), /reason=sync_flag/);
  });
});

describe('custom METADATA_KEY and DENY_MESSAGE', () => {
  test('custom key is read, and the default key is still checked too', async () => {
    const secrets = { METADATA_KEY: 'corp_okta' };
    await assertDenied(eventFor({ app_metadata: { corp_okta: syncRecord() } }, secrets));
    await assertDenied(eventFor({ app_metadata: { okta_sync: syncRecord() } }, secrets));
    await assertAllowed(eventFor({ app_metadata: { corp_okta: reactivatedRecord() } }, secrets));
  });

  test('a mistyped but valid METADATA_KEY cannot switch off the default check', async () => {
    await assertDenied(eventFor({ app_metadata: { okta_sync: syncRecord() } }, { METADATA_KEY: 'okta_synk' }));
  });

  test('deny wins: a stale flag at the default key denies even if the custom key is clear', async () => {
    await assertDenied(
      eventFor({ app_metadata: { corp_okta: reactivatedRecord(), okta_sync: syncRecord() } }, { METADATA_KEY: 'corp_okta' })
    );
  });

  test('custom key combined with user_metadata target', async () => {
    const secrets = { METADATA_TARGET: 'user_metadata', METADATA_KEY: 'okta-sync-v2' };
    await assertDenied(eventFor({ user_metadata: { 'okta-sync-v2': syncRecord() } }, secrets));
  });

  test('custom deny message is passed to api.access.deny', async () => {
    const message = 'Access revoked: your Okta account is deactivated. Call the service desk on x4357.';
    await assertDenied(
      eventFor({ app_metadata: { okta_sync: syncRecord() } }, { DENY_MESSAGE: message }),
      message
    );
  });

  test('custom deny message also applies to the legacy flag', async () => {
    await assertDenied(eventFor({ user_metadata: legacyUserMetadata() }, { DENY_MESSAGE: 'Nope.' }), 'Nope.');
  });

  test('whitespace-only or empty DENY_MESSAGE falls back to the default', async () => {
    for (const value of ['', '   ', '\n']) {
      await assertDenied(eventFor({ app_metadata: { okta_sync: syncRecord() } }, { DENY_MESSAGE: value }));
    }
  });
});

describe('invalid configuration falls back to defaults', () => {
  const flagged = { app_metadata: { okta_sync: syncRecord() } };

  for (const target of ['appMetadata', 'APP_METADATA', 'user', 'identities', '__proto__', 'email', 'app_metadata.okta_sync']) {
    test(`METADATA_TARGET=${JSON.stringify(target)} -> app_metadata`, async () => {
      const run = await assertDenied(eventFor(flagged, { METADATA_TARGET: target }));
      // One fixed warning line that does not echo the secret's value.
      assert.equal(
        run.logs[0],
        '[deny-deactivated] config: METADATA_TARGET is not one of app_metadata|user_metadata; using app_metadata'
      );
    });
  }

  test('METADATA_TARGET naming a root attribute never reads that attribute', async () => {
    // identities is an array on every user; a non-default target must never reach it.
    const user = { identities: { okta_sync: { deactivated: true } } };
    await assertAllowed(eventFor(user, { METADATA_TARGET: 'identities' }));
  });

  test('METADATA_TARGET with surrounding whitespace is accepted', async () => {
    await assertDenied(
      eventFor({ user_metadata: { okta_sync: syncRecord() } }, { METADATA_TARGET: ' user_metadata\n' })
    );
  });

  for (const key of ['okta.sync', '$okta', 'okta_sync$', 'a b', '__proto__', 'constructor', 'prototype', 'x'.repeat(101)]) {
    test(`METADATA_KEY=${JSON.stringify(key.length > 20 ? `${key.slice(0, 8)}…` : key)} -> okta_sync`, async () => {
      const run = await assertDenied(eventFor(flagged, { METADATA_KEY: key }));
      assert.match(run.logs.join('\n'), /METADATA_KEY is not a plain key/);
    });
  }

  for (const key of ['', '   ']) {
    test(`METADATA_KEY=${JSON.stringify(key)} -> okta_sync (silently)`, async () => {
      const run = await assertDenied(eventFor(flagged, { METADATA_KEY: key }));
      assert.doesNotMatch(run.logs.join('\n'), /config:/);
    });
  }

  for (const value of [42, true, null, {}, ['user_metadata']]) {
    test(`non-string secret values ${JSON.stringify(value)} are ignored`, async () => {
      const secrets = { METADATA_TARGET: value, METADATA_KEY: value, DENY_MESSAGE: value, HONOR_LEGACY_FLAG: value };
      await assertDenied(eventFor(flagged, secrets));
      await assertDenied(eventFor({ user_metadata: legacyUserMetadata() }, secrets));
    });
  }

  test('missing event.secrets -> defaults', async () => {
    const event = eventFor(flagged);
    delete event.secrets;
    await assertDenied(event);
  });
});

describe('side effects', () => {
  test('does not mutate the event (deep-frozen event works for deny and allow)', async () => {
    await assertDenied(deepFreeze(eventFor({ app_metadata: { okta_sync: syncRecord() } })));
    await assertAllowed(deepFreeze(eventFor({ app_metadata: { okta_sync: reactivatedRecord() } })));
  });

  test('logs one short line with the user_id on deny, and no user data', async () => {
    const run = await assertDenied(
      eventFor({ app_metadata: { okta_sync: syncRecord() }, user_metadata: { phone: '+61 400 000 000' } })
    );
    assert.equal(run.logs.length, 1);
    assert.equal(run.logs[0], `[deny-deactivated] denied user_id=${USER_ID} reason=sync_flag at=app_metadata.okta_sync`);
  });

  test('logs nothing when the user is allowed with a valid configuration', async () => {
    const run = await assertAllowed(eventFor({ app_metadata: { okta_sync: reactivatedRecord() } }));
    assert.deepEqual(run.logs, []);
  });

  test('deny is called before the handler resolves (return right after deny)', async () => {
    let denied = false;
    const api = { access: { deny: () => { denied = true; return api; } } };
    const event = eventFor({ app_metadata: { okta_sync: syncRecord() } });
    const original = console.log;
    console.log = () => {};
    try {
      await action.onExecutePostLogin(event, api);
    } finally {
      console.log = original;
    }
    assert.equal(denied, true);
  });
});
