// The browser of the oidc-provider checks: cookies by host (as browsers keep them, whatever
// the port), redirects followed by hand, forms submitted.
const jar = new Map();
const host = (url) => new URL(url).hostname;
const keep = (url, r) => {
  for (const line of r.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const [name, value] = [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1)];
    const expired = attrs.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()));
    const cookies = jar.get(host(url)) ?? new Map();
    if (expired || value === '') cookies.delete(name); else cookies.set(name, value);
    jar.set(host(url), cookies);
  }
};
const cookie = (url) => [...(jar.get(host(url)) ?? new Map())].map(([n, v]) => `${n}=${v}`).join('; ');

/** One request with the jar's cookies, its redirect not followed. */
export async function request(url, init = {}) {
  const r = await fetch(url, { ...init, redirect: 'manual', headers: { accept: 'text/html', ...init.headers, cookie: cookie(url) } });
  keep(url, r);
  return r;
}

/** A request and the redirects after it: the last answer and its URL. */
export async function follow(url, init) {
  let r = await request(url, init);
  for (let hops = 0; r.status >= 300 && r.status < 400 && hops < 20; hops += 1) {
    url = new URL(r.headers.get('location'), url).href;
    r = await request(url);
  }
  return { r, url };
}

/** Posts a form to `url`, following the redirects. */
export const submit = (url, fields) => follow(url, {
  method: 'POST', body: new URLSearchParams(fields),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/** Signs in at the provider's dev interaction pages (and consents), from the page `at`. */
export async function signIn(at, login = 'alice') {
  let { r, url } = at;
  if (!url.includes('/interaction/')) return { r, url, failed: `no sign-in page: ${r.status} ${url}` };
  ({ r, url } = await submit(url, { prompt: 'login', login, password: 'x' }));
  if (url.includes('/interaction/')) ({ r, url } = await submit(url, { prompt: 'consent' }));
  return { r, url };
}
