// openid-client (OpenID Certified) runs the device authorization grant (RFC 8628) against
// examples/auth_server.rs: it asks for codes, the user (fetch, below) enters the code at the
// verification page and approves, and openid-client's own polling (at the server's interval,
// following slow_down) gets the tokens, which call the API.
// Usage: OP=<issuer> CLIENT_ID=<a public client with the device grant> node device.mjs
import * as client from 'openid-client';

const op = process.env.OP;
const config = await client.discovery(new URL(op), process.env.CLIENT_ID, {}, client.None(), {
  execute: [client.allowInsecureRequests], // a loopback test server: plain http
});
const started = await client.initiateDeviceAuthorization(config, { scope: 'profile' });

// The user, on another device: sign in, open the verification page, enter the code, approve.
const cookies = [];
const keep = (r) => cookies.push(...r.headers.getSetCookie().map((c) => c.split(';')[0]));
const send = async (url, init = {}) => {
  const r = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: cookies.join('; ') } });
  keep(r);
  return r;
};
const unescape = (s) => s.replace(/&#x2F;/g, '/').replace(/&#x27;/g, "'").replace(/&quot;/g, '"')
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const hidden = (page) => [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)]
  .map(([, name, value]) => [name, unescape(value)]);
const user = (async () => {
  await send(`${op}/login`, { method: 'POST', body: new URLSearchParams({ username: 'alice', next: '/' }) });
  const page = await (await send(started.verification_uri)).text();
  const form = new URLSearchParams([...hidden(page), ['user_code', started.user_code]]);
  const consent = await (await send(`${op}/oauth/device`, { method: 'POST', body: form })).text();
  const answer = new URLSearchParams([...hidden(consent), ['decision', 'Accept']]);
  const done = await (await send(`${op}/oauth/device`, { method: 'POST', body: answer })).text();
  if (!done.includes('connected')) throw new Error(`the approval failed: ${done}`);
})();

const [tokens] = await Promise.all([client.pollDeviceAuthorizationGrant(config, started), user]);
const me = await fetch(`${op}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
const body = await me.json();
if (me.status !== 200 || body.username !== 'alice') throw new Error(`the API: ${me.status} ${JSON.stringify(body)}`);
console.log(`openid-client: the device grant (user code ${started.user_code}) gave a token for ${body.username}`);
