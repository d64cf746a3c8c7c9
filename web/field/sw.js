// The field app's service worker: keeps every file of the app on the phone so it opens with no
// network, for days. Files come from the cache first (the whole set is fetched again when this
// file changes: bump VERSION with any change to the app). The API (/v1/...) and the settings
// (/web/config.json) always go to the network: data lives in IndexedDB, never in this cache, so
// an update never touches unsent work.
const VERSION = 'field-2026-12-06.17';
const FILES = [
  './', 'index.html', 'app.js', 'boxes.js', 'db.js', 'forms.js', 'i18n.js', 'keys.js', 'net.js',
  'position.js', 'style.css', 'sync.js', 'views.js', 'manifest.webmanifest', 'icon.svg', 'icon-192.png',
  'icon-512.png', 'vendor/_blake.js', 'vendor/_md.js', 'vendor/_u64.js', 'vendor/blake2.js',
  'vendor/ed25519.js', 'vendor/leaflet.css', 'vendor/leaflet.js', 'vendor/utils.js',
  '../web/labels.js', '../web/dom.js', '../web/words.js', '../web/errors.js',
];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(VERSION).then((c) => c.addAll(FILES.map((f) => new Request(f, { cache: 'reload' })))));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== VERSION) await caches.delete(k);
    await self.clients.claim();
  })());
});

// The page asks for a waiting version to take over (the user chose "update now").
self.addEventListener('message', (ev) => {
  if (ev.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/') || url.pathname === '/web/config.json') return;
  ev.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const key = ev.request.mode === 'navigate' ? new URL('./', self.registration.scope).href : ev.request;
    const hit = await cache.match(key, { ignoreSearch: ev.request.mode === 'navigate' });
    if (hit) return hit;
    return fetch(ev.request);
  })());
});
