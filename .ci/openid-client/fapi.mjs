// openid-client (OpenID Certified) as a FAPI 2.0 client of examples/auth_server.rs: it
// authenticates with private_key_jwt, pushes its authorization request (PAR), binds its
// code (by the proof on the pushed request: another key cannot redeem it) and its tokens to
// a DPoP key, following the server's DPoP nonces, then calls userinfo and the app's API with
// proofs and refreshes; the bare token, presented as a Bearer token, is refused.
// Usage: OP=<issuer> CLIENT_ID=.. CLIENT_KEY=<PEM path> KID=.. node fapi.mjs
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

const op = process.env.OP;
const redirect_uri = 'http://127.0.0.1:9999/cb';
const fail = (why) => { console.error(`FAILED: ${why}`); process.exit(1); };
const der = createPrivateKey(readFileSync(process.env.CLIENT_KEY)).export({ format: 'der', type: 'pkcs8' });
const key = await crypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const config = await client.discovery(
  new URL(op),
  process.env.CLIENT_ID,
  {},
  client.PrivateKeyJwt({ key, kid: process.env.KID }),
  { execute: [client.allowInsecureRequests] }, // a loopback test server: plain http
);
const meta = config.serverMetadata();
if (meta.require_pushed_authorization_requests !== true) fail('PAR is not required');
if (!meta.dpop_signing_alg_values_supported?.includes('ES256')) fail('no DPoP metadata');
const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));

const code_verifier = client.randomPKCECodeVerifier();
const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);
const nonce = client.randomNonce();
const url = await client.buildAuthorizationUrlWithPAR(config, {
  redirect_uri, scope: 'openid profile', code_challenge, code_challenge_method: 'S256', nonce,
}, { DPoP });
if (!url.searchParams.get('request_uri') || url.searchParams.has('code_challenge')) fail(`not pushed: ${url}`);

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
if (!back) fail(`no redirect after consent: ${r.status} ${page.slice(0, 300)}`);

// The proof on the pushed request bound the code to the DPoP key: another key cannot redeem it.
const checks = { pkceCodeVerifier: code_verifier, expectedNonce: nonce, idTokenExpected: true };
const stranger = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
const refused = await client.authorizationCodeGrant(config, new URL(back), checks, undefined, { DPoP: stranger })
  .then(() => 'accepted', (e) => e.error ?? e.message);
if (refused !== 'invalid_grant') fail(`the code with another DPoP key: ${refused}`);
const tokens = await client.authorizationCodeGrant(config, new URL(back), {
  pkceCodeVerifier: code_verifier, expectedNonce: nonce, idTokenExpected: true,
}, undefined, { DPoP });
if (tokens.token_type?.toLowerCase() !== 'dpop') fail(`token_type ${tokens.token_type}`);
const claims = tokens.claims();
if (claims.sub !== 'alice') fail(JSON.stringify(claims));
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
if (info.sub !== 'alice') fail(JSON.stringify(info));

const api = new URL('/api/me', op);
r = await client.fetchProtectedResource(config, tokens.access_token, api, 'GET', undefined, undefined, { DPoP });
if (r.status !== 200) fail(`the API with a proof: ${r.status}`);
const me = await r.json();
// The same token without its proof, as a stolen Bearer token: refused with a DPoP challenge.
r = await fetch(api, { headers: { authorization: `Bearer ${tokens.access_token}` } });
const challenge = r.headers.get('www-authenticate') ?? '';
if (r.status !== 401 || !/^DPoP /.test(challenge)) fail(`a bare token: ${r.status} ${challenge}`);

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
if (refreshed.token_type?.toLowerCase() !== 'dpop') fail('the refreshed token is not DPoP-bound');
r = await client.fetchProtectedResource(config, refreshed.access_token, api, 'GET', undefined, undefined, { DPoP });
if (r.status !== 200) fail(`the API after refresh: ${r.status}`);
console.log(`openid-client (FAPI 2.0): private_key_jwt, PAR, a DPoP-bound code and tokens with server nonces;`,
  `userinfo ${JSON.stringify(info)}, API ${JSON.stringify(me)}, a bare Bearer token refused, refresh ok`);
