// A certified OpenID Provider (oidc-provider, resource indicators on, JWT access tokens)
// issues access tokens for examples/resource_server.rs's API: valid ones are accepted,
// and expired, wrong-audience, wrong-issuer, `alg: none` and HS256-with-the-public-key ones
// refused, as is a valid token without the route's scope.
// Usage: OP_PORT=.. OTHER_PORT=.. API_URL=<the example's url> AUDIENCE=<its audience> node resource.mjs
import { createHmac, createPublicKey } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const [api, audience] = [process.env.API_URL, process.env.AUDIENCE];
const short = 'https://short-lived.example';
const other = 'https://other-api.example';

function start(port) {
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: 'service',
      client_secret: 'service-secret-0123456789',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    }],
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          const info = { scope: 'profile email', accessTokenFormat: 'jwt', accessTokenTTL: 120 };
          if (resource === audience) return { ...info, audience };
          // The same audience, expiring at once.
          if (resource === short) return { ...info, audience, accessTokenTTL: 1 };
          if (resource === other) return { ...info, audience: other };
          throw new errors.InvalidTarget();
        },
      },
    },
    cookies: { keys: ['a test key, not a secret'] },
  });
  return { provider, server: provider.listen(port) };
}

const op = start(Number(process.env.OP_PORT));
const stranger = start(Number(process.env.OTHER_PORT));
const servers = [op.server, stranger.server];
const fail = (why) => { console.error(`FAILED: ${why}`); servers.forEach((s) => s.close()); process.exit(1); };

async function token(port, resource, scope) {
  const r = await fetch(`http://127.0.0.1:${port}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('service:service-secret-0123456789').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const body = await r.json();
  if (r.status !== 200) fail(`no token from the provider: ${r.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

async function me(accessToken) {
  const headers = accessToken ? { authorization: `Bearer ${accessToken}` } : {};
  const r = await fetch(`${api}/api/me`, { headers });
  return { status: r.status, challenge: r.headers.get('www-authenticate'), body: await r.json().catch(() => null) };
}

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url'));

try {
  const valid = await token(process.env.OP_PORT, audience, 'profile email');
  if (part(valid, 0).typ !== 'at+jwt') fail(`not an RFC 9068 token: ${JSON.stringify(part(valid, 0))}`);
  let answer = await me(valid);
  if (answer.status !== 200 || !answer.body.scopes.includes('profile')) {
    fail(`a valid token was refused: ${JSON.stringify(answer)}`);
  }
  answer = await me(null);
  if (answer.status !== 401 || !answer.challenge?.startsWith('Bearer')) fail(`no token: ${JSON.stringify(answer)}`);

  // The provider's public key, as an HMAC secret: the algorithm-confusion forgery.
  const jwks = await (await fetch(`http://127.0.0.1:${process.env.OP_PORT}/jwks`)).json();
  const pem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const claims = part(valid, 1);
  const hsHeader = b64({ alg: 'HS256', typ: 'at+jwt', kid: part(valid, 0).kid });
  const hsInput = `${hsHeader}.${b64(claims)}`;
  const hs256 = `${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`;
  const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`;

  const expired = await token(process.env.OP_PORT, short, 'profile');
  const wrongAudience = await token(process.env.OP_PORT, other, 'profile');
  const wrongIssuer = await token(process.env.OTHER_PORT, audience, 'profile');
  await new Promise((done) => setTimeout(done, 3000));
  const refused = { expired, wrongAudience, wrongIssuer, none, hs256 };
  for (const [what, jwt] of Object.entries(refused)) {
    answer = await me(jwt);
    if (answer.status !== 401 || answer.body?.error !== 'invalid_token' || !answer.challenge?.includes('invalid_token')) {
      fail(`${what}: ${JSON.stringify(answer)}`);
    }
  }
  answer = await me(await token(process.env.OP_PORT, audience, 'email'));
  if (answer.status !== 403 || answer.body?.error !== 'insufficient_scope') fail(`no profile scope: ${JSON.stringify(answer)}`);
  console.log('examples/resource_server accepted oidc-provider\'s JWT access tokens and refused expired, wrong-audience, wrong-issuer, alg none and HS256-with-the-public-key ones');
} catch (e) {
  fail(e.stack ?? e);
}
servers.forEach((s) => s.close());
