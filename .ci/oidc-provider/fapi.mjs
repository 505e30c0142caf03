// A certified OpenID Provider (oidc-provider) that requires pushed authorization requests,
// DPoP-bound tokens (with server nonces) and private_key_jwt (the client's keys fetched
// from its jwks_uri, the app's JWKS route) logs a user in to examples/oidc_login.rs; the
// access token expires and the app refreshes it with a proof of the same key; logging out
// revokes the tokens (an assertion again) and ends the session at the provider.
// Usage: OP_PORT=.. APP=<the app's url> node fapi.mjs
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { follow, request, signIn } from './browser.mjs';

const issuer = `http://127.0.0.1:${process.env.OP_PORT}`;
const app = process.env.APP;
const events = [];
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bank',
    redirect_uris: [`${app}/auth/idp/callback`],
    post_logout_redirect_uris: [`${app}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks_uri: `${app}/auth/idp/jwks`,
    dpop_bound_access_tokens: true,
  }],
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
  },
  issueRefreshToken: async () => true,
  ttl: { AccessToken: 3, IdToken: 60, RefreshToken: 600, Grant: 600, Session: 600, Interaction: 600 },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true, name: 'Alice' }),
  }),
  claims: { email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['a test key, not a secret'] },
  // The app is on loopback (its JWKS too): lift the provider's SSRF guard for this test only.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
});
for (const event of ['pushed_authorization_request.success', 'grant.success', 'grant.revoked']) {
  provider.on(event, () => events.push(event));
}
for (const event of ['pushed_authorization_request.error', 'grant.error', 'revocation.error', 'server_error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => events.push(`${event}: ${err.message} ${err.error_description ?? ''}`));
}
const server = provider.listen(Number(process.env.OP_PORT));
const fail = (why) => {
  console.error(`FAILED: ${why}\nthe provider's events: ${JSON.stringify(events)}`);
  server.close();
  process.exit(1);
};
const me = async () => {
  const r = await request(`${app}/me`, { headers: { accept: 'application/json' } });
  return { status: r.status, body: r.status === 200 ? await r.json() : await r.text() };
};

try {
  const login = await follow(`${app}/auth/idp/login?next=/me`);
  const authorize = login.url;
  let { r, url, failed } = await signIn(login);
  if (failed) fail(failed);
  if (r.status !== 200 || !url.startsWith(app)) fail(`the login ended at ${url}: ${r.status} ${await r.text()}`);
  if (!events.includes('pushed_authorization_request.success')) fail(`not pushed (${authorize})`);
  let answer = await me();
  if (answer.status !== 200 || answer.body.user?.email !== 'alice@example.com') fail(`/me: ${JSON.stringify(answer)}`);

  // The access token expires: the app refreshes it (DPoP proof, assertion) on the next call.
  await new Promise((done) => setTimeout(done, 4000));
  const grants = events.filter((e) => e === 'grant.success').length;
  answer = await me();
  if (answer.status !== 200) fail(`/me after the token expired: ${JSON.stringify(answer)}`);
  if (events.filter((e) => e === 'grant.success').length !== grants + 1) fail('no refresh');

  // Logging out revokes the grant at the provider and goes on to its end_session.
  r = await request(`${app}/auth/idp/logout`, { method: 'POST' });
  const to = r.headers.get('location') ?? '';
  if (!to.startsWith(`${issuer}/session/end`)) fail(`the logout went to ${to}`);
  for (let i = 0; i < 50 && !events.includes('grant.revoked'); i += 1) {
    await new Promise((done) => setTimeout(done, 100)); // revocation is best effort, not awaited
  }
  if (!events.includes('grant.revoked')) fail('the tokens were not revoked');
  if ((await me()).status !== 401) fail('/me after the logout');
  const errors = events.filter((e) => e.includes(':') && !e.includes('use_dpop_nonce'));
  if (errors.length) fail(`errors at the provider: ${errors}`);
  console.log('oidc-provider (PAR, DPoP with nonces, private_key_jwt from the app\'s JWKS route required):',
    'login, userinfo, refresh and logout with revocation ok');
} catch (e) {
  fail(e.stack ?? e);
}
server.close();
