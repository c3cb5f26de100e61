// A real OpenID Connect provider (panva's certified `oidc-provider`) for Wardline's single
// sign-on tests: the Rust HTTP tests and the browser test start it. Its sign-in page asks for
// an account name and any password; the accounts, their claims and what the provider says
// about how they signed in (`amr`) come from the environment:
//   OIDC_PORT           where it listens (127.0.0.1)
//   OIDC_ISSUER         its issuer (default http://127.0.0.1:OIDC_PORT; a test proxy may front it)
//   OIDC_ACCOUNTS       JSON: { "alice": { "claims": { "email": …, "email_verified": true }, "amr": ["pwd", "mfa"] } }
//   OIDC_REDIRECT_URIS  comma-separated redirect URIs of the two clients ("wardline", "another-app")
//   OIDC_CLIENT_SECRET  the "wardline" client's secret
//   OIDC_KID            the signing key's id (a new key each start: restarting rotates it)
import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';

const port = Number(process.env.OIDC_PORT);
const issuer = process.env.OIDC_ISSUER ?? `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const redirectUris = (process.env.OIDC_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: process.env.OIDC_KID ?? 'key-1', use: 'sig', alg: 'RS256' };

const client = (client_id, client_secret) => ({
  client_id, client_secret, redirect_uris: redirectUris,
  response_types: ['code'], grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client('wardline', process.env.OIDC_CLIENT_SECRET ?? 'wardline-secret'), client('another-app', 'another-secret')],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'email', 'profile'],
  // `amr` (from the sign-in, not the account) and the email in the ID token itself, as
  // Entra ID and CIS2 put them.
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['wardline-test-provider'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account.claims }; } };
  },
  // No consent screen: the organisation's own provider, its own app.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
});

const page = (uid, error) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}">
<label for="login">Account</label> <input id="login" name="login" required>
<label for="password">Password</label> <input id="password" name="password" type="password" required>
<button type="submit">Sign in to the provider</button></form></main></body></html>`;

async function form(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = page(details.uid);
    return undefined;
  }
  const fields = await form(ctx.req);
  const id = fields.get('login');
  if (!accounts[id]) {
    ctx.type = 'html';
    ctx.body = page(details.uid, 'No such account.');
    return undefined;
  }
  // How the person signed in: the account's usual way, or as the form says (a test signs the
  // same person in with and without a second factor).
  const amr = fields.get('amr') ? fields.get('amr').split(' ') : (accounts[id].amr ?? ['pwd']);
  const to = await provider.interactionResult(ctx.req, ctx.res,
    { login: { accountId: id, amr } }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(to);
  return undefined;
});

provider.listen(port, '127.0.0.1', () => console.log(`provider ready at ${issuer}`));
