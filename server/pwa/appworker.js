// Smart Pass's service worker (served as /app-worker.js).
//
// It keeps what go-app's own worker does, which the app relies on: the app
// shell in a cache named by the app's version, skipWaiting at install and
// clients.claim at activation (go-app's page reports an update when the new
// worker activates), the caches of other versions deleted, cache first for
// every request, and go-app's push notifications. What it adds is that a
// tablet on a bad link still becomes ready to work offline:
//
//   - install waits for its work (event.waitUntil) and fetches the shell
//     file by file, retrying what failed with backoff, instead of one
//     all-or-nothing cache.addAll whose failure went unnoticed;
//   - what is still missing after that is fetched again whenever the page
//     asks (it does, with backoff, until the worker says it is ready) and
//     at every page load, so the tablet heals without anybody doing
//     anything;
//   - the face model is cached apart from the shell, only on a device whose
//     page says it recognises faces, checked against the SHA-256 the server
//     published, in a cache named by that checksum (a new model replaces the
//     old; a new app version alone does not download it again);
//   - the worker tells the page what it holds, so the status bar says
//     truthfully whether the tablet can work offline and what it lacks.
//
// A page found in the cache is matched whatever its query: a terminal cut
// off from the network that reloads /card?then=/identify (or opens a set-up
// link with ?code=) gets the app, not the browser's "no connection" page.
// Every page is the same shell; the query is read by the app.
//
// Placeholders: the version and the shell's files are filled in by go-app,
// the face model by the server (server/web.go).

const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};
// {url, sha256, size} of the model the server serves, or null.
const faceModel = {{.FaceModel}};
const modelCachePrefix = "face-model-";
const modelCacheName = faceModel ? modelCachePrefix + faceModel.sha256 : "";
const modelURL = faceModel ? new URL(faceModel.url, self.location).href : "";
// prefsCache remembers what the page said this device needs, so a heal
// started by a page load (before the page has spoken) knows it too.
const prefsCache = "smartpass-prefs";
const wantsModelKey = new URL("/__smartpass/wants-model", self.location).href;
// attempts is how often one pass tries a failed file, waiting 1, 2, 4 s.
const attempts = 4;

// What the worker knows of the model download in progress.
let modelDone = 0;
let modelFailed = "";

self.addEventListener("install", (event) => {
  event.waitUntil(install());
});

async function install() {
  console.log("installing app worker {{.Version}}");
  const update = (await caches.keys()).some((k) => k.startsWith("app-") && k !== cacheName);
  const missing = await cacheShell();
  if (missing.length > 0 && update) {
    // An older version works offline on this device: keep it rather than
    // replace it with one that does not. The browser tries the update
    // again at its next check.
    throw new Error("app worker {{.Version}}: could not fetch " + missing.join(", "));
  }
  await self.skipWaiting();
}

self.addEventListener("activate", (event) => {
  event.waitUntil(activate());
});

async function activate() {
  await deletePreviousCaches();
  await self.clients.claim();
  console.log("app worker {{.Version}} is activated");
  broadcast();
}

// deletePreviousCaches deletes other versions' shells. An old model stays
// until the current one is stored: meanwhile it is better than none.
async function deletePreviousCaches() {
  for (const key of await caches.keys()) {
    if (key === cacheName || key === prefsCache || key.startsWith(modelCachePrefix)) {
      continue;
    }
    try {
      console.log("deleting", key, "cache");
      await caches.delete(key);
    } catch (err) {
      console.error("deleting", key, "cache failed:", err);
    }
  }
}

self.addEventListener("fetch", (event) => {
  event.respondWith(fetchWithCache(event.request));
  if (event.request.mode === "navigate") {
    // A page load is a good moment to fetch what is still missing.
    event.waitUntil(heal());
  }
});

async function fetchWithCache(request) {
  const cachedResponse = await caches.match(request, { ignoreSearch: request.mode === "navigate" });
  if (cachedResponse) {
    return cachedResponse;
  }
  if (modelFetching && request.url === modelURL) {
    // A face screen opened while the worker downloads the model: wait
    // for that download rather than make a second one.
    await modelFetching;
    const cached = await caches.match(request);
    if (cached) {
      return cached;
    }
  }
  return await fetch(request);
}

// The page asks {smartpass: {type: "prepare", model: bool}}: make this
// device ready offline (with the face model when model is true) and say
// how far it is.
self.addEventListener("message", (event) => {
  const msg = event.data && event.data.smartpass;
  if (!msg || msg.type !== "prepare") {
    return;
  }
  event.waitUntil(
    (async () => {
      if (typeof msg.model === "boolean") {
        await setWantsModel(msg.model);
      }
      const done = heal();
      await broadcast();
      await done;
    })()
  );
});

// heal fetches what is missing, one pass at a time: a trigger during a pass
// runs one more pass after it, never two at once.
let healing = null;
let healAgain = false;

function heal() {
  if (healing) {
    healAgain = true;
    return healing;
  }
  healing = (async () => {
    try {
      do {
        healAgain = false;
        await cacheShell();
        if (await wantsModel()) {
          await cacheModel();
        }
      } while (healAgain);
    } catch (err) {
      console.error("app worker: heal:", err);
    } finally {
      healing = null;
      await broadcast();
    }
  })();
  return healing;
}

// cacheShell stores every file of the shell not yet in the cache, trying
// each failed one again with backoff, and returns those still missing.
async function cacheShell() {
  const cache = await caches.open(cacheName);
  for (let i = 0; ; i++) {
    const missing = await shellMissing(cache);
    if (missing.length === 0 || i === attempts) {
      return missing;
    }
    if (i > 0) {
      await sleep(1000 * 2 ** (i - 1));
    }
    await Promise.all(
      missing.map(async (url) => {
        try {
          const response = await fetch(url, { cache: "no-cache" });
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          await cache.put(url, response);
        } catch (err) {
          console.warn("app worker: fetching", url, "failed:", String(err));
        }
      })
    );
    await broadcast();
  }
}

async function shellMissing(cache) {
  const have = new Set((await cache.keys()).map((r) => r.url));
  return resourcesToCache.filter((url) => !have.has(new URL(url, self.location).href));
}

// cacheModel downloads the face model, checks its SHA-256 and stores it,
// trying again with backoff, one download at a time. A checksum that differs means the server has a
// newer model than this worker knows: the newer worker brings its checksum.
// modelFetching is the download in progress, retries included.
let modelFetching = null;

function cacheModel() {
  if (!modelFetching) {
    modelFetching = fetchModel().finally(() => {
      modelFetching = null;
    });
  }
  return modelFetching;
}

async function fetchModel() {
  if (!faceModel || (await hasModel())) {
    return;
  }
  for (let i = 0; i < attempts; i++) {
    if (i > 0) {
      await sleep(1000 * 2 ** (i - 1));
    }
    try {
      const body = await download(modelURL);
      const sum = hex(await crypto.subtle.digest("SHA-256", body));
      if (sum !== faceModel.sha256) {
        modelFailed = "checksum";
        console.warn("app worker: the face model's checksum is", sum, "not", faceModel.sha256);
        self.registration.update();
        return;
      }
      const cache = await caches.open(modelCacheName);
      await cache.put(
        modelURL,
        new Response(body, {
          headers: { "Content-Type": "application/octet-stream", "Content-Length": String(body.byteLength) },
        })
      );
      modelFailed = "";
      for (const key of await caches.keys()) {
        if (key.startsWith(modelCachePrefix) && key !== modelCacheName) {
          await caches.delete(key);
        }
      }
      return;
    } catch (err) {
      modelFailed = "network";
      console.warn("app worker: fetching the face model failed:", String(err));
    }
  }
}

// download fetches url whole, telling the page how far it is.
async function download(url) {
  modelDone = 0;
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) {
    throw new Error("HTTP " + response.status);
  }
  const reader = response.body.getReader();
  const chunks = [];
  let told = Date.now();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    chunks.push(value);
    modelDone += value.byteLength;
    if (Date.now() - told > 500) {
      told = Date.now();
      broadcast();
    }
  }
  const body = new Uint8Array(modelDone);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body.buffer;
}

async function hasModel() {
  if (!faceModel || !(await caches.has(modelCacheName))) {
    return false;
  }
  const cache = await caches.open(modelCacheName);
  return !!(await cache.match(modelURL));
}

async function wantsModel() {
  const cache = await caches.open(prefsCache);
  const r = await cache.match(wantsModelKey);
  return !!r && (await r.text()) === "1";
}

async function setWantsModel(on) {
  if ((await wantsModel()) === on) {
    return;
  }
  const cache = await caches.open(prefsCache);
  await cache.put(wantsModelKey, new Response(on ? "1" : "0"));
  if (!on) {
    // Set up again for a role without faces (the HQ, say): the model
    // is no use here any more.
    for (const key of await caches.keys()) {
      if (key.startsWith(modelCachePrefix)) {
        await caches.delete(key);
      }
    }
  }
}

// status is what the page's status bar shows.
async function status() {
  const missing = [];
  const shell = await shellMissing(await caches.open(cacheName));
  if (shell.length > 0) {
    missing.push("shell");
  }
  const wants = await wantsModel();
  const model = wants && faceModel && !(await hasModel());
  if (model) {
    missing.push("model");
  }
  return {
    type: "offline",
    version: "{{.Version}}",
    ready: missing.length === 0,
    missing: missing,
    shellMissing: shell,
    busy: healing !== null,
    modelWanted: wants,
    modelDone: model ? modelDone : 0,
    modelSize: model ? faceModel.size : 0,
    failed: model ? modelFailed : "",
  };
}

// broadcast tells every window of this origin what the worker holds,
// also a first visit's page that this worker does not control yet.
async function broadcast() {
  try {
    const msg = { smartpass: await status() };
    for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
      client.postMessage(msg);
    }
  } catch (err) {
    console.error("app worker: status:", err);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

// -----------------------------------------------------------------------------
// Push Notifications, as go-app's worker has them
// -----------------------------------------------------------------------------
self.addEventListener("push", (event) => {
  if (!event.data || !event.data.text()) {
    return;
  }

  const notification = JSON.parse(event.data.text());
  if (!notification) {
    return;
  }

  const title = notification.title;
  delete notification.title;

  if (!notification.data) {
    notification.data = {};
  }
  let actions = [];
  for (let i in notification.actions) {
    const action = notification.actions[i];

    actions.push({
      action: action.action,
      path: action.path,
    });

    delete action.path;
  }
  notification.data.goapp = {
    path: notification.path,
    actions: actions,
  };
  delete notification.path;

  event.waitUntil(self.registration.showNotification(title, notification));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();

  const notification = event.notification;
  let path = notification.data.goapp.path;

  for (let i in notification.data.goapp.actions) {
    const action = notification.data.goapp.actions[i];
    if (action.action === event.action) {
      path = action.path;
      break;
    }
  }

  event.waitUntil(
    clients
      .matchAll({
        type: "window",
      })
      .then((clientList) => {
        for (var i = 0; i < clientList.length; i++) {
          let client = clientList[i];
          if ("focus" in client) {
            client.focus();
            client.postMessage({
              goapp: {
                type: "notification",
                path: path,
              },
            });
            return;
          }
        }

        if (clients.openWindow) {
          return clients.openWindow(path);
        }
      })
  );
});
