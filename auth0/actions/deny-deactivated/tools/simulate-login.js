#!/usr/bin/env node
// Developer tool (not deployed): run the Action against one Auth0 user, as a post-login would.
// Reads {"user": <Auth0 user JSON>, "secrets": {...}} on stdin; prints {"denied", "message"}.
'use strict';

const { onExecutePostLogin } = require('../index.js');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const { user, secrets = {} } = JSON.parse(input);
  const denials = [];
  const event = {
    user,
    secrets,
    connection: { name: (user.identities && user.identities[0] && user.identities[0].connection) || 'unknown' },
    client: { client_id: 'demo', name: 'demo app' },
    request: { ip: '203.0.113.10', hostname: 'login.example.com' },
    transaction: { protocol: 'oidc-basic-profile' },
  };
  const api = { access: { deny: (reason) => denials.push(reason) } };
  const log = console.log;
  console.log = () => {};  // the Action's own log line: not part of this tool's output
  await onExecutePostLogin(event, api);
  console.log = log;
  process.stdout.write(JSON.stringify({ denied: denials.length > 0, message: denials[0] || null }) + '\n');
});
