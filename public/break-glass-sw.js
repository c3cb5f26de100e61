// Wardline's break-glass service worker: keeps the last copy of each break-glass pack this
// browser opened (and the style sheet) so the pack can be read when Wardline or the network
// is down. Everything else goes to the network untouched. The copies are forgotten whenever
// the session is seen to have ended: signing out, the server sending the pack's request to
// sign in (timed out, signed out elsewhere, disabled), or a page finding itself signed out
// (it deletes the same cache, or posts 'forget' here).
'use strict';

const CACHE = 'wardline-break-glass-v1';
const PACK = /^\/orgs\/[^/]+\/break-glass$/;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if (event.data === 'forget') event.waitUntil(caches.delete(CACHE));
});

// The server answered, and not with the pack: whoever asked is no longer signed in.
function signedOut(response) {
  if (response.status === 401) return true;
  if (response.type === 'opaqueredirect') return true;
  return response.redirected && new URL(response.url).pathname === '/sign-in';
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === 'POST' && /^\/api\/auth\/sign_out/.test(url.pathname)) {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (request.method !== 'GET') return;
  const kept = PACK.test(url.pathname) || (url.pathname.startsWith('/pkg/') && url.pathname.endsWith('.css'));
  if (!kept) return;
  event.respondWith(networkThenCopy(request));
});

// The network first, so a pack is always the newest Wardline can give; the kept copy when
// the network fails or the server answers with an error of its own.
async function networkThenCopy(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (signedOut(response)) {
      await caches.delete(CACHE);
      return response;
    }
    if (response.ok && !response.redirected) {
      await cache.put(request, response.clone());
      return response;
    }
    if (response.status < 500) return response;
    return (await cache.match(request, { ignoreSearch: true })) ?? response;
  } catch (offline) {
    const copy = await cache.match(request, { ignoreSearch: true });
    if (copy) return copy;
    throw offline;
  }
}
