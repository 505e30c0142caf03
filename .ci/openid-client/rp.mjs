// An independent OpenID Connect client (openid-client, OpenID Certified) against
// examples/auth_server.rs: discovery, the authorization code flow with PKCE, nonce and
// state, the ID token validated (signature against the JWKS, iss, aud, nonce, exp; the
// RFC 9207 iss of the authorization response), userinfo and a refresh. The browser part (sign-in, consent) is done with
// fetch. Usage: OP=<issuer> CLIENT_ID=.. CLIENT_SECRET=.. [ALG=ES256] node rp.mjs
import * as client from 'openid-client';

const op = process.env.OP;
const redirect_uri = 'http://127.0.0.1:9999/cb';
const metadata = process.env.ALG ? { id_token_signed_response_alg: process.env.ALG } : {};
const config = await client.discovery(
  new URL(op),
  process.env.CLIENT_ID,
  metadata,
  client.ClientSecretBasic(process.env.CLIENT_SECRET),
  { execute: [client.allowInsecureRequests] }, // a loopback test server: plain http
);
const code_verifier = client.randomPKCECodeVerifier();
const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);
const nonce = client.randomNonce();
const state = client.randomState();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri, scope: 'openid profile', code_challenge, code_challenge_method: 'S256', nonce, state,
});

// The browser: sign in at the app, open the authorization URL, accept the consent.
const cookies = [];
const keep = (r) => cookies.push(...r.headers.getSetCookie().map((c) => c.split(';')[0]));
let r = await fetch(`${op}/login`, {
  method: 'POST', redirect: 'manual', body: new URLSearchParams({ username: 'alice', next: '/' }),
});
keep(r);
r = await fetch(url, { headers: { cookie: cookies.join('; ') }, redirect: 'manual' });
keep(r);
const page = await r.text();
const unescape = (s) => s.replace(/&#x2F;/g, '/').replace(/&#x27;/g, "'").replace(/&quot;/g, '"')
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const form = new URLSearchParams();
for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
  form.append(name, unescape(value));
}
form.append('decision', 'Accept');
r = await fetch(`${op}/oauth/authorize`, {
  method: 'POST', headers: { cookie: cookies.join('; ') }, body: form, redirect: 'manual',
});
const back = r.headers.get('location');
if (!back) throw new Error(`no redirect after consent: ${r.status}`);

const tokens = await client.authorizationCodeGrant(config, new URL(back), {
  pkceCodeVerifier: code_verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
});
const claims = tokens.claims();
if (claims.sub !== 'alice' || claims.name !== 'alice') throw new Error(JSON.stringify(claims));
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
if (refreshed.claims()?.sub !== 'alice') throw new Error('the refreshed ID token');
console.log(`openid-client: ${config.serverMetadata().id_token_signing_alg_values_supported} ID token validated`,
  `(sub ${claims.sub}, nonce checked), userinfo ${JSON.stringify(info)}, refresh ok`);
