/**
 * Auth0 post-login Action: deny login to users that okta-auth0-sync has flagged as deactivated
 * in Okta. The promise: a person deactivated in Okta never gets in.
 *
 * Contract with the sync (it writes one namespaced key, sent whole):
 *   event.user.app_metadata.okta_sync = { deactivated: true, okta_user_id, event_type,
 *                                         event_uuid, published, synced_at, blocked }
 * On reactivation the sync writes `deactivated: false`.
 *
 * The rule: allow only when the user is provably not flagged.
 * - Recognised locations, each `event.user.<container>.<key>.deactivated`:
 *     the configured one (METADATA_TARGET.METADATA_KEY), the default app_metadata.okta_sync
 *     (always, so a wrong or mistyped secret cannot switch the check off), and the legacy
 *     user_metadata.okta of the original Okta Workflows template (unless HONOR_LEGACY_FLAG=false).
 * - Along a location's path, undefined/null or a missing key means "no record here". A plain
 *   object is followed, and so is a string holding a JSON object. Anything else (array, number,
 *   unparseable string, ...) cannot be interpreted: deny.
 * - `deactivated` clears the user only as false, 0, or the string "false"/"0" (trimmed, any
 *   case). Every other value denies: true, "true", "TRUE", 1, "yes", null, "", [], {}, ...
 *   A sync record without `deactivated` denies; the sync always writes it. A legacy `okta`
 *   object without it is clear: the sync's reactivation removes just that key from it.
 * - Any exception while deciding denies. Deny wins: one location that denies is enough.
 * - Only own properties are read. No dependencies, no network, never writes metadata, never
 *   logs metadata.
 *
 * Secrets (event.secrets), all optional; an invalid value falls back to the default:
 *   METADATA_TARGET    "app_metadata" (default) | "user_metadata"
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

const LEGACY_TARGET = 'user_metadata';
const LEGACY_KEY = 'okta';

// The only values of `deactivated` that prove "not flagged" (strings trimmed, any case).
const CLEAR_STRINGS = ['false', '0'];
// Values that are plainly a flag, for the log line only: anything not clear denies anyway.
const FLAG_STRINGS = ['true', '1', 'yes', 'y', 'on'];

const LOG_PREFIX = '[deny-deactivated]';

const NOT_OBJECT = Symbol('not an object');

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// Own properties only: the event is plain JSON, so anything inherited is not user data.
function hasOwn(obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function ownProp(obj, key) {
  return isObject(obj) && hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * A value on a recognised path, as something to read from: undefined for undefined/null, the
 * object itself, the object a string holds as JSON, or NOT_OBJECT when it cannot be interpreted.
 */
function asObject(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    try {
      value = JSON.parse(value);
    } catch {
      return NOT_OBJECT;
    }
  }
  return isObject(value) ? value : NOT_OBJECT;
}

/** "clear" | "flag" | "unreadable" for a value of `deactivated`. Only "clear" lets a user in. */
function flagState(value) {
  if (value === false || value === 0) return 'clear';
  if (value === true || (typeof value === 'number' && !Number.isNaN(value))) return 'flag';
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (CLEAR_STRINGS.includes(word)) return 'clear';
    if (FLAG_STRINGS.includes(word)) return 'flag';
  }
  return 'unreadable';
}

/**
 * State of one location, event.user[target][key].deactivated: "clear" | "flag" | "unreadable".
 * `flagRequired`: whether a record without `deactivated` is unreadable (sync) or clear (legacy).
 * May throw on exotic input (getters, proxies); the caller treats that as unreadable.
 */
function locationState(event, target, key, flagRequired) {
  let value = event;
  for (const step of ['user', target, key]) {
    const obj = asObject(value);
    if (obj === undefined) return 'clear';
    if (obj === NOT_OBJECT) return 'unreadable';
    value = hasOwn(obj, step) ? obj[step] : undefined;
  }
  const record = asObject(value);
  if (record === undefined) return 'clear';
  if (record === NOT_OBJECT) return 'unreadable';
  if (!hasOwn(record, 'deactivated')) return flagRequired ? 'unreadable' : 'clear';
  return flagState(record.deactivated);
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

function readSecrets(event) {
  try {
    return ownProp(event, 'secrets');
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
  if (rawKey) {
    if (PLAIN_KEY.test(rawKey) && !FORBIDDEN_KEYS.includes(rawKey)) key = rawKey;
    else warnings.push(`METADATA_KEY is not a plain key; using ${DEFAULT_KEY}`);
  }

  const denyMessage = secretString(secrets, 'DENY_MESSAGE') || DEFAULT_DENY_MESSAGE;

  const rawLegacy = secretString(secrets, 'HONOR_LEGACY_FLAG');
  const honorLegacy = !(rawLegacy !== undefined && rawLegacy.toLowerCase() === 'false');

  return { target, key, denyMessage, honorLegacy, warnings };
}

/**
 * Decide whether the user must be denied: null to allow, or { reason, detail } where reason is
 * sync_flag | sync_unreadable | legacy_flag | legacy_unreadable. The first location that does
 * not prove "clear" wins.
 */
function denyReason(event, config) {
  const locations = [
    [config.target, config.key, 'sync'],
    [DEFAULT_TARGET, DEFAULT_KEY, 'sync'],
  ];
  if (config.honorLegacy) locations.push([LEGACY_TARGET, LEGACY_KEY, 'legacy']);

  const seen = new Set();
  for (const [target, key, kind] of locations) {
    const at = `${target}.${key}`;
    if (seen.has(at)) continue;
    seen.add(at);
    let state;
    try {
      state = locationState(event, target, key, kind === 'sync');
    } catch {
      state = 'unreadable';
    }
    if (state !== 'clear') return { reason: `${kind}_${state}`, detail: `at=${at}` };
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

// user_id for the log line: printable ASCII, at most 100 characters; never throws.
function describeUser(event) {
  try {
    const id = ownProp(ownProp(event, 'user'), 'user_id');
    if (typeof id === 'string' && id !== '') return id.slice(0, 100).replace(/[^\x21-\x7e]/g, '?');
  } catch {
    // fall through
  }
  return '<unknown>';
}

// Logging must never change the decision.
function log(line) {
  try {
    console.log(`${LOG_PREFIX} ${line}`);
  } catch {
    // ignore
  }
}

/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  let message = DEFAULT_DENY_MESSAGE;
  let verdict;
  try {
    const config = resolveConfig(readSecrets(event));
    message = config.denyMessage;
    for (const warning of config.warnings) log(`config: ${warning}`);
    verdict = denyReason(event, config);
  } catch (err) {
    // Should be unreachable with the guards above. Cannot decide, so deny.
    verdict = { reason: 'error', detail: `error=${errorName(err)}` };
  }
  if (verdict === null) return;

  log(`denied user_id=${describeUser(event)} reason=${verdict.reason} ${verdict.detail}`);
  // Deliberately not caught: if deny itself throws, the uncaught error makes Auth0 deny the login.
  api.access.deny(message);
};
