// The official MCP TypeScript SDK's client authorization against examples/auth_server.rs, as
// an MCP client does it: the API's 401 names its protected resource metadata (RFC 9728); the
// SDK's auth() reads it and the server's metadata (RFC 8414), registers itself (RFC 7591, a
// public client on a loopback redirect URI), and sends the browser to authorize with PKCE and
// `resource` (RFC 8707). The browser part (sign-in, consent) is done with fetch; the code goes
// back to auth(), which exchanges it; the token then calls the API, and is bound to it.
// Usage: SERVER=<the example's url> node client.mjs
import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';

const server = process.env.SERVER;
const api = `${server}/api/me`;
const fail = (why) => { console.error(`FAILED: ${why}`); process.exit(1); };

// The SDK's own example provider, in memory (examples/client/simpleOAuthClientProvider.js).
const redirectUrl = 'http://127.0.0.1:33418/callback';
let authorizationUrl;
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return {
      client_name: 'MCP SDK client',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  },
  clientInformation() { return this.client; },
  saveClientInformation(client) { this.client = client; },
  tokens() { return this.saved; },
  saveTokens(tokens) { this.saved = tokens; },
  redirectToAuthorization(url) { authorizationUrl = url; },
  saveCodeVerifier(verifier) { this.verifier = verifier; },
  codeVerifier() { return this.verifier; },
};

// The browser: one cookie jar for the server, redirects by hand.
const cookies = new Map();
async function browse(url, init = {}) {
  const cookie = [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  const r = await fetch(new URL(url, server), { ...init, redirect: 'manual', headers: { ...init.headers, cookie } });
  for (const line of r.headers.getSetCookie()) {
    const pair = line.split(';')[0];
    cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
  }
  return r;
}
// The template's HTML escapes, undone.
const unescape = (text) => text
  .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#([0-9]+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
  .replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
const form = (fields) => ({
  method: 'POST', body: new URLSearchParams(fields),
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server },
});

try {
  const first = await fetch(api);
  if (first.status !== 401) fail(`the API answered ${first.status} without a token`);
  const { resourceMetadataUrl } = extractWWWAuthenticateParams(first);
  if (!resourceMetadataUrl) fail(`no resource_metadata in ${first.headers.get('www-authenticate')}`);

  const started = await auth(provider, { serverUrl: api, resourceMetadataUrl });
  if (started !== 'REDIRECT' || !authorizationUrl) fail(`auth() did not send the browser to authorize: ${started}`);
  if (!provider.client?.client_id) fail('no client registered');
  const asked = new URL(authorizationUrl);
  for (const param of ['code_challenge', 'resource']) {
    if (!asked.searchParams.get(param)) fail(`the authorization request has no ${param}: ${asked}`);
  }

  // Sign in, then consent.
  let r = await browse(`/login`, form({ username: 'alice', password: 'x', next: asked.pathname + asked.search }));
  if (r.status !== 303) fail(`sign-in: ${r.status}`);
  r = await browse(r.headers.get('location'));
  const page = await r.text();
  if (r.status !== 200) fail(`consent page: ${r.status} ${page}`);
  const fields = [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)]
    .map(([, name, value]) => [name, unescape(value)]);
  r = await browse('/oauth/authorize', form([...fields, ['decision', 'Accept']]));
  const back = new URL(r.headers.get('location') ?? '', server);
  const code = back.searchParams.get('code');
  if (r.status !== 303 || !back.href.startsWith(redirectUrl) || !code) fail(`consent answered ${r.status} ${back}`);

  const done = await auth(provider, { serverUrl: api, resourceMetadataUrl, authorizationCode: code });
  if (done !== 'AUTHORIZED' || !provider.saved?.access_token) fail(`the code was not exchanged: ${done}`);
  const me = await fetch(api, { headers: { authorization: `Bearer ${provider.saved.access_token}` } });
  const body = await me.json().catch(() => null);
  if (me.status !== 200 || body?.username !== 'alice') fail(`the API with the token: ${me.status} ${JSON.stringify(body)}`);
  console.log(`the MCP SDK registered ${provider.client.client_id}, got a token for ${asked.searchParams.get('resource')} and called the API as ${body.username}`);
} catch (e) {
  fail(e.stack ?? e);
}
