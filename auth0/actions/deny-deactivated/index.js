/**
 * Auth0 post-login Action: deny login to users that okta-auth0-sync has flagged
 * as deactivated in Okta.
 *
 * Contract with the sync (it writes one namespaced key, sent whole):
 *   event.user.app_metadata.okta_sync = { deactivated: true, okta_user_id, event_type,
 *                                         event_uuid, published, synced_at, blocked }
 * On reactivation the sync writes `deactivated: false`.
 *
 * Rules this file keeps:
 * - Deny only on the strict boolean `deactivated === true`. The sync always writes a boolean,
 *   so anything else (the string "true", 1, "yes") did not come from the sync and is ignored.
 * - Legacy compatibility (on unless HONOR_LEGACY_FLAG is "false"): the original Okta
 *   Workflows template wrote `user_metadata.okta.deactivated = "true"` (a string). Users it
 *   flagged stay denied while migrating. Deny wins: the legacy flag denies even when the
 *   sync's record says `deactivated: false`, so clear it (or switch it off) on reactivation.
 * - Never throw. An uncaught error in a post-login Action denies the login for every user,
 *   so every property access is guarded and the decision runs inside a try/catch.
 * - No dependencies, no network calls, never writes metadata, never logs metadata.
 *
 * Secrets (event.secrets), all optional:
 *   METADATA_TARGET    "app_metadata" (default) | "user_metadata"; anything else -> app_metadata
 *   METADATA_KEY       plain key (letters, digits, "_" and "-"); default "okta_sync"
 *   DENY_MESSAGE       default "Your account has been deactivated. Contact your administrator."
 *   HONOR_LEGACY_FLAG  "false" turns the legacy check off; any other value (or none) keeps it on
 */
'use strict';

const DEFAULT_TARGET = 'app_metadata';
const DEFAULT_KEY = 'okta_sync';
const DEFAULT_DENY_MESSAGE = 'Your account has been deactivated. Contact your administrator.';

const ALLOWED_TARGETS = ['app_metadata', 'user_metadata'];
// Auth0 metadata keys must not contain "." or "$". Be stricter than that: a plain identifier-like
// key, so a secret can never steer the lookup somewhere unexpected.
const PLAIN_KEY = /^[A-Za-z0-9_-]{1,100}$/;
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

const LEGACY_CONTAINER = 'user_metadata';
const LEGACY_KEY = 'okta';
const LEGACY_VALUE = 'true';

const LOG_PREFIX = '[deny-deactivated]';

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// Own properties only: the event is plain JSON, so anything inherited is not user data.
function ownProp(obj, key) {
  if (!isObject(obj) || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return obj[key];
}

// A secret as a trimmed string, or undefined. A secrets object that cannot be read counts as
// "not set", so a broken configuration falls back to the defaults instead of skipping the check.
function secretString(secrets, name) {
  try {
    const value = ownProp(secrets, name);
    return typeof value === 'string' ? value.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Resolve the configuration from event.secrets, falling back to safe defaults. */
function resolveConfig(secrets) {
  const warnings = [];

  let target = DEFAULT_TARGET;
  const rawTarget = secretString(secrets, 'METADATA_TARGET');
  if (rawTarget) {
    if (ALLOWED_TARGETS.includes(rawTarget)) target = rawTarget;
    else warnings.push(`METADATA_TARGET is not one of ${ALLOWED_TARGETS.join('|')}; using ${DEFAULT_TARGET}`);
  }

  let key = DEFAULT_KEY;
  const rawKey = secretString(secrets, 'METADATA_KEY');
  if (rawKey !== undefined && rawKey !== '') {
    if (PLAIN_KEY.test(rawKey) && !FORBIDDEN_KEYS.includes(rawKey)) key = rawKey;
    else warnings.push(`METADATA_KEY is not a plain key; using ${DEFAULT_KEY}`);
  }

  const rawMessage = secretString(secrets, 'DENY_MESSAGE');
  const denyMessage = rawMessage ? rawMessage : DEFAULT_DENY_MESSAGE;

  const rawLegacy = secretString(secrets, 'HONOR_LEGACY_FLAG');
  const honorLegacy = !(rawLegacy !== undefined && rawLegacy.toLowerCase() === 'false');

  return { target, key, denyMessage, honorLegacy, warnings };
}

/**
 * Decide whether the user must be denied. Returns the reason ("sync_flag" | "legacy_flag")
 * or null to allow. Pure; reads only own properties.
 */
function denyReason(user, config) {
  const record = ownProp(ownProp(user, config.target), config.key);
  if (ownProp(record, 'deactivated') === true) return 'sync_flag';

  if (config.honorLegacy) {
    const legacy = ownProp(ownProp(user, LEGACY_CONTAINER), LEGACY_KEY);
    if (ownProp(legacy, 'deactivated') === LEGACY_VALUE) return 'legacy_flag';
  }
  return null;
}

// Name of an unexpected error for the log line; never throws itself.
function errorName(err) {
  try {
    return err instanceof Error ? err.name : typeof err;
  } catch {
    return 'unknown';
  }
}

function describeUser(user) {
  const id = ownProp(user, 'user_id');
  return typeof id === 'string' ? id : '<unknown>';
}

/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  let decision = null;
  try {
    const config = resolveConfig(ownProp(event, 'secrets'));
    for (const warning of config.warnings) console.log(`${LOG_PREFIX} config: ${warning}`);

    const user = ownProp(event, 'user');
    const reason = denyReason(user, config);
    if (reason !== null) {
      decision = { reason, message: config.denyMessage, userId: describeUser(user) };
    }
  } catch (err) {
    // Should be unreachable with the guards above. Fail open rather than fail everyone:
    // an escaping error would deny every login in the tenant, and the sync's `blocked: true`
    // remains the primary control.
    console.log(`${LOG_PREFIX} unexpected error, allowing: ${errorName(err)}`);
    return;
  }

  if (decision !== null) {
    console.log(`${LOG_PREFIX} denied user_id=${decision.userId} reason=${decision.reason}`);
    api.access.deny(decision.message);
    return;
  }
};
