// A real OpenID Connect provider for Plaudit's end-to-end tests of "sign in with OIDC":
// the certified `oidc-provider` package (pinned in package.json), configured for one
// confidential client and a few users, with a login page of its own and consent granted
// automatically. Test use only: in-memory storage, plain http on 127.0.0.1.
//
//   OIDC_PORT=0 OIDC_CLIENT_ID=plaudit OIDC_CLIENT_SECRET=s3cret \
//   OIDC_REDIRECT_URI=http://127.0.0.1:8080/auth/oidc/callback \
//   OIDC_USERS='[{"sub":"u1","email":"ana@example.com","email_verified":true,"name":"Ana","password":"pw"}]' \
//   node tests/browser/oidc-provider.mjs
//
// OIDC_PORT 0 picks a free port. Once listening it prints one line to stdout,
// `OIDC_ISSUER=http://127.0.0.1:<port>` (the exact issuer, no trailing slash), and runs
// until killed. The browser flow: authorization URL → /interaction/<uid> login form
// (#login, #password, #submit) → redirect to OIDC_REDIRECT_URI with `code` and `state`.
// PKCE (S256) is required; the ID token carries email, email_verified and name.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

// oidc-provider prints its notices with console.info; keep stdout for the issuer line.
console.info = console.warn;

const env = (name) => {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`oidc-provider.mjs: ${name} is required`);
    process.exit(2);
  }
  return value;
};
const port = Number(process.env.OIDC_PORT || 0);
const client = {
  client_id: env('OIDC_CLIENT_ID'),
  client_secret: env('OIDC_CLIENT_SECRET'),
  redirect_uris: [env('OIDC_REDIRECT_URI')],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  // client_secret_post is accepted for such a client too.
  token_endpoint_auth_method: 'client_secret_basic',
};
const users = JSON.parse(env('OIDC_USERS'));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const configuration = {
  clients: [client],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Put the scope-requested claims in the ID token itself, not only at userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  async findAccount(ctx, sub) {
    const user = users.find((u) => u.sub === sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { password, ...claims } = user;
        return claims;
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>OIDC error</title><h1>OIDC error</h1><pre>${escape(JSON.stringify(out, null, 2))}</pre>`;
  },
};

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, login = '', error = '') {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in (test OIDC provider)</title></head>
<body>
  <h1>Sign in</h1>
  ${error ? `<p id="error" role="alert">${escape(error)}</p>` : ''}
  <form method="post" action="/interaction/${escape(uid)}/login">
    <label>Email <input id="login" name="login" type="email" value="${escape(login)}" autofocus></label>
    <label>Password <input id="password" name="password" type="password"></label>
    <button id="submit" type="submit">Sign in</button>
  </form>
</body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// Our own interaction routes: GET shows the login form (or grants consent at once),
// POST .../login checks the password.
async function interaction(provider, req, res, url) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === 'GET' && prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'POST' && url.pathname.endsWith('/login')) {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const user = users.find((u) => u.email === login && u.password === form.get('password'));
    if (user) {
      return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    }
    return sendHtml(res, 200, loginPage(uid, login, 'Wrong email or password.'));
  }
  return sendHtml(res, 200, loginPage(uid));
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

let provider;
let providerCallback;
const server = createServer(async (req, res) => {
  const url = new URL(req.url, provider.issuer);
  if (!url.pathname.startsWith('/interaction/')) return providerCallback(req, res);
  try {
    await interaction(provider, req, res, url);
  } catch (error) {
    console.error('oidc-provider.mjs: interaction failed:', error);
    if (!res.headersSent) sendHtml(res, 400, `<!DOCTYPE html><p id="error">${escape(error.message)}</p>`);
  }
});

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx, error) => console.error('oidc-provider.mjs: server error:', error));
  providerCallback = provider.callback();
  process.stdout.write(`OIDC_ISSUER=${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
