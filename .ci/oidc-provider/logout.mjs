// A certified OpenID Provider (oidc-provider, with Back-Channel Logout 1.0 enabled) logs a
// user in to examples/oidc_login.rs (instance one) and, when the user signs out at the
// provider, posts a logout token to instance two; both instances share their sessions in
// Redis, so the user's /me answers 401 on both. The browser part (the provider's dev
// sign-in and consent pages, its logout confirmation) is done with fetch and a small
// cookie jar. Usage: OP_PORT=.. APP_ONE=<url> APP_TWO=<url> node logout.mjs
import Provider from 'oidc-provider';
import { follow, request, signIn, submit } from './browser.mjs';

const issuer = `http://127.0.0.1:${process.env.OP_PORT}`;
const [one, two] = [process.env.APP_ONE, process.env.APP_TWO];
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'rocket',
    client_secret: 'rocket-secret-0123456789',
    redirect_uris: [`${one}/auth/idp/callback`],
    backchannel_logout_uri: `${two}/auth/idp/backchannel-logout`,
    backchannel_logout_session_required: true,
  }],
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true, name: 'Alice' }),
  }),
  claims: { email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['a test key, not a secret'] },
  // The apps are on loopback: lift the provider's SSRF guard (it refuses special-use
  // addresses) for this test only.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
});
const delivered = [];
provider.on('backchannel.success', (ctx, client) => delivered.push(['ok', client.clientId]));
provider.on('backchannel.error', (ctx, err, client) => delivered.push(['error', client.clientId, err.message]));
const server = provider.listen(Number(process.env.OP_PORT));

const fail = (why) => { console.error(`FAILED: ${why}`); server.close(); process.exit(1); };
const me = async (app) => (await request(`${app}/me`, { headers: { accept: 'application/json' } })).status;

try {
  // Log in to instance one: the provider's sign-in page, then its consent page.
  let { r, url, failed } = await signIn(await follow(`${one}/auth/idp/login?next=/me`));
  if (failed) fail(failed);
  if (r.status !== 200 || !url.startsWith(one)) fail(`the login ended at ${url}: ${r.status} ${await r.text()}`);
  for (const app of [one, two]) {
    if (await me(app) !== 200) fail(`${app}/me is not logged in after the login`);
  }

  // Sign out at the provider: its confirmation page, then the back-channel logout.
  ({ r, url } = await follow(`${issuer}/session/end`));
  const xsrf = (await r.text()).match(/name="xsrf" value="([^"]+)"/)?.[1];
  if (!xsrf) fail('no logout confirmation form');
  ({ r, url } = await submit(`${issuer}/session/end/confirm`, { xsrf, logout: 'yes' }));
  if (JSON.stringify(delivered) !== JSON.stringify([['ok', 'rocket']])) {
    fail(`back-channel deliveries: ${JSON.stringify(delivered)}`);
  }
  for (const app of [one, two]) {
    const status = await me(app);
    if (status !== 401) fail(`${app}/me answers ${status} after the logout at the provider`);
  }
  console.log('oidc-provider logged the user out of both instances over the back channel');
} catch (e) {
  fail(e.stack ?? e);
}
server.close();
