// A real OpenID Connect provider for the SSO tests: panva/oidc-provider, with
// its own development login page (devInteractions). Not written here: this
// file only configures it.
//
//   node provider.mjs --port 0 --accounts accounts.json --keys keys.json
//
// - Clients register themselves (OpenID Connect Dynamic Client Registration at
//   /reg), so each test client company gets its own client_id and secret.
// - Accounts (claims incl. `groups`) are read from --accounts at every login,
//   so a test can change someone's groups between two logins.
// - Signing keys come from --keys (created there when missing), so a second
//   provider with another issuer can sign with the same keys.
// - Prints "READY <issuer>" once it listens.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    accounts: { type: 'string' },
    keys: { type: 'string' },
    'id-token-ttl': { type: 'string', default: '300' },
  },
});

function signingKeys(path) {
  if (path && existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
  if (path) writeFileSync(path, JSON.stringify(jwks), { mode: 0o600 });
  return jwks;
}

function account(id) {
  const accounts = JSON.parse(readFileSync(args.accounts, 'utf8'));
  return accounts[id];
}

// Listen first: the issuer must name the port the OS picked.
const server = createServer();
await new Promise((resolve) => server.listen(Number(args.port), args.host, resolve));
const issuer = `http://${args.host}:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: signingKeys(args.keys),
  cookies: { keys: [randomUUID()] },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  // The ID token carries the claims (as Entra ID, Google and Okta can be set up to do).
  conformIdTokenClaims: false,
  ttl: { IdToken: Number(args['id-token-ttl']) },
  async findAccount(_ctx, id) {
    const data = account(id);
    if (!data) return undefined;
    return {
      accountId: id,
      async claims() {
        const fresh = account(id) || data;
        return { sub: id, ...fresh };
      },
    };
  },
  // First-party test clients: consent is implied, so the only page a person
  // sees at the provider is its login page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'given_name', 'family_name', 'groups']);
    await grant.save();
    return grant;
  },
});

server.on('request', provider.callback());
process.stdout.write(`READY ${issuer}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
