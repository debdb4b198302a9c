// An independent OpenID provider for the idme-e2e interop tests: panva's `oidc-provider`,
// shaped like ID.me (issuer path `/oidc`, the response types and modes ID.me lists, PKCE S256,
// RS256, client_secret_basic/post, refresh tokens, RP-initiated logout), over plain http on
// loopback.
//
//   node server.mjs '<config JSON>'        (or the JSON in the OIDC_PROVIDER_CONFIG variable)
//
// Config (every member optional but the client):
//   {
//     "port": 0,                                  0 = any free port (the default)
//     "client_id": "…", "client_secret": "…",      no secret for "token_endpoint_auth_method": "none"
//     "application_type": "web" | "native",       default "web"; see "Native clients" below
//     "redirect_uris": ["http://127.0.0.1:PORT/auth/callback"],
//     "post_logout_redirect_uris": ["http://127.0.0.1:PORT/"],
//     "response_types": ["code", …],              default: all six below
//     "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "none",
//     "iss_beside_id_token": false               see below
//   }
//
// Once listening it prints `READY http://127.0.0.1:PORT/oidc` (the issuer) on stdout.
// Outside the issuer path, `GET /__stats` answers JSON counters of what the provider did
// (authorizations by response type and mode, token grants, refresh tokens issued, logouts),
// so a test can check what happened on the provider's side, `GET /__last_response`
// the parameter names of the last authorization response it sent, and `GET /__issued` the
// token values its token endpoint handed out (so a test can check none of them leaks).
//
// Deviation from stock oidc-provider, only with "iss_beside_id_token": true: oidc-provider
// leaves the RFC 9207 `iss` parameter out of authorization responses that carry an
// `id_token` (lib/actions/authorization/respond.js) although its discovery says
// `authorization_response_iss_parameter_supported: true`. RFC 9207 §2 requires `iss` in every
// authorization response of a server that supports it, and §2.4 has clients reject responses
// without it. With the switch on, the server adds `iss` to those responses as RFC 9207 says;
// off (the default), it behaves like stock oidc-provider.
//
// Native clients (RFC 8252): with "application_type": "native" and
// "token_endpoint_auth_method": "none", the client is a public desktop/CLI app. oidc-provider
// then accepts a registered `http://127.0.0.1/callback` with any port (RFC 8252 §7.3), and
// PKCE S256 is required as for every client here. `none` is offered as a token endpoint
// authentication method only when the client is registered with it, so web clients see the
// same discovery document as before.
//
// Test-only relaxations of a production provider, each on purpose:
// - devInteractions: oidc-provider's development login and consent pages (any login and
//   password signs in; the login becomes the `sub`).
// - http on loopback: OIDC Registration §2 forbids `http` redirect URIs for web clients using
//   the implicit grant; oidc-provider documents how to waive that rule for development
//   (the `implicit-force-https` / `implicit-forbid-localhost` validation codes).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

const ALL_RESPONSE_TYPES = [
  'code',
  'id_token',
  'code id_token',
  'code token',
  'id_token token',
  'code id_token token',
];

function fail(message) {
  process.stderr.write(`oidc-provider server: ${message}\n`);
  process.exit(2);
}

function readConfig() {
  const raw = process.argv[2] ?? process.env.OIDC_PROVIDER_CONFIG;
  if (!raw) fail('pass the configuration JSON as the first argument or in OIDC_PROVIDER_CONFIG');
  let config;
  try {
    config = JSON.parse(raw);
  } catch (e) {
    fail(`the configuration is not JSON: ${e.message}`);
  }
  const keys = config.token_endpoint_auth_method === 'none' ? ['client_id'] : ['client_id', 'client_secret'];
  for (const key of keys) {
    if (typeof config[key] !== 'string' || !config[key]) fail(`config.${key} is required`);
  }
  if (config.token_endpoint_auth_method === 'none' && config.client_secret) {
    fail('a client with token_endpoint_auth_method "none" has no client_secret');
  }
  if (!Array.isArray(config.redirect_uris) || config.redirect_uris.length === 0) {
    fail('config.redirect_uris must list at least one URI');
  }
  return config;
}

const config = readConfig();
const responseTypes = config.response_types ?? ALL_RESPONSE_TYPES;
const tokenAuthMethod = config.token_endpoint_auth_method ?? 'client_secret_basic';

// The signing key: RSA 2048 for RS256, fresh at every start.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `rs256-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

// What the provider did, for `GET /__stats`.
const stats = {
  authorizations: 0,
  authorizations_by_flow: {},
  token_grants: 0,
  token_auth_methods: {},
  refresh_tokens_issued: 0,
  userinfo: 0,
  end_sessions: 0,
  errors: [],
};
let lastResponse = null;
// Every access, refresh and ID token value the token endpoint answered, for `GET /__issued`.
const issued = [];

const server = createServer();
server.on('clientError', (_err, socket) => socket.destroy());

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(config.port ?? 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const base = `http://127.0.0.1:${port}`;
const issuer = `${base}/oidc`;

// An ID.me-like account: the login typed on the sign-in page is the `sub`.
async function findAccount(_ctx, accountId) {
  return {
    accountId,
    async claims() {
      return {
        sub: accountId,
        email: `${accountId}@interop.example`,
        email_verified: true,
        given_name: 'Interop',
        family_name: 'Tester',
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client_id,
      ...(tokenAuthMethod === 'none' ? {} : { client_secret: config.client_secret }),
      application_type: config.application_type ?? 'web',
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris ?? [],
      response_types: responseTypes,
      grant_types: [
        ...(responseTypes.some((t) => t.split(' ').includes('code')) ? ['authorization_code'] : []),
        ...(responseTypes.some((t) => t !== 'code') ? ['implicit'] : []),
        'refresh_token',
      ],
      token_endpoint_auth_method: tokenAuthMethod,
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signingKey] },
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  responseTypes: ALL_RESPONSE_TYPES,
  clientAuthMethods: [
    'client_secret_basic',
    'client_secret_post',
    ...(tokenAuthMethod === 'none' ? ['none'] : []),
  ],
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256'],
    userinfoSigningAlgValues: ['RS256'],
  },
  // ID.me always wants PKCE S256 with a code; oidc-provider only accepts S256.
  pkce: { methods: ['S256'], required: () => true },
  // Refresh tokens on every authorization_code grant, as ID.me does (no offline_access).
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.kind === 'AuthorizationCode',
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    userinfo: { enabled: true },
    pushedAuthorizationRequests: { enabled: false },
    revocation: { enabled: false },
    introspection: { enabled: false },
  },
  ttl: {
    AccessToken: 300,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 604800,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
  },
  // Cookies over plain http: nothing `secure`; oidc-provider signs them with these keys.
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  renderError(ctx, out, error) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><body><h1>oidc-provider error</h1><pre id="error">${JSON.stringify(out)}</pre></body></html>`;
    process.stderr.write(`renderError: ${JSON.stringify(out)} ${error?.stack ?? ''}\n`);
  },
});

// The documented way to let a web client using the implicit grant register `http` loopback
// redirect URIs (development only).
const { invalidate } = provider.Client.Schema.prototype;
provider.Client.Schema.prototype.invalidate = function invalidateUnlessLoopbackHttp(message, code) {
  if (code === 'implicit-force-https' || code === 'implicit-forbid-localhost') return;
  invalidate.call(this, message, code);
};

function bump(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

provider.on('authorization.success', (ctx, out) => {
  // Emitted with the very object the response mode then renders, so `iss` added here is sent.
  let issAdded = false;
  if (config.iss_beside_id_token && out.iss === undefined && !ctx.oidc.responseMode.includes('jwt')) {
    out.iss = provider.issuer;
    issAdded = true;
  }
  stats.authorizations += 1;
  const { params } = ctx.oidc;
  const responseType = params.response_type.split(' ').sort().join(' ');
  bump(stats.authorizations_by_flow, `${responseType} ${ctx.oidc.responseMode}`);
  lastResponse = {
    response_type: responseType,
    response_mode: ctx.oidc.responseMode,
    parameters: Object.keys(out).filter((k) => out[k] !== undefined).sort(),
    iss_added_by_harness: issAdded,
  };
});
provider.on('grant.success', (ctx) => {
  stats.token_grants += 1;
  bump(stats.token_auth_methods, ctx.oidc.client?.clientAuthMethod ?? 'unknown');
});
provider.on('refresh_token.saved', () => {
  stats.refresh_tokens_issued += 1;
});
provider.on('end_session.success', () => {
  stats.end_sessions += 1;
});
for (const event of [
  'authorization.error',
  'grant.error',
  'userinfo.error',
  'end_session.error',
  'server_error',
]) {
  provider.on(event, (_ctx, err) => {
    const line = `${event}: ${err?.name ?? ''} ${err?.message ?? err} ${err?.error_description ?? ''} ${err?.error_detail ?? ''}`.trimEnd();
    stats.errors.push(line);
    process.stderr.write(`${line}\n`);
  });
}
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'userinfo' && ctx.status === 200) stats.userinfo += 1;
  if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body) {
    for (const name of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof ctx.body[name] === 'string') issued.push(ctx.body[name]);
    }
  }
});

const oidc = provider.callback();
server.on('request', (req, res) => {
  const path = req.url.split('?')[0];
  const harness = { '/__stats': () => stats, '/__last_response': () => lastResponse, '/__issued': () => issued };
  if (req.method === 'GET' && Object.hasOwn(harness, path)) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(harness[path]()));
    return;
  }
  if (path === '/oidc' || path.startsWith('/oidc/')) {
    // Mounted under the issuer's path: oidc-provider reads the mount from `originalUrl`.
    req.originalUrl = req.url;
    req.url = req.url.slice('/oidc'.length) || '/';
    oidc(req, res);
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
// Started by a test with a pipe on stdin: when the test process dies without killing us,
// the pipe closes, and we leave too.
if (fstatSync(0).isFIFO()) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

process.stdout.write(`READY ${issuer}\n`);
