// The face pipeline's Web Worker (wasm/faceworker). It runs app.wasm, the
// same program as the page, which sees that it is in a worker and answers
// the page's requests (app/face/facemsg) instead of drawing screens. The
// page's first request (the model) may come while app.wasm compiles: it
// waits in a queue. If app.wasm does not start, or its program ends (a
// panic ends it too), the page is told {failed}, closes the worker and
// runs the pipeline itself.
importScripts("/wasm_exec.js");

const queue = [];
self.onmessage = (event) => {
  if (self.smartpassFaceWorker) {
    self.smartpassFaceWorker(event.data);
  } else {
    queue.push(event.data);
  }
};

const go = new Go();
WebAssembly.instantiateStreaming(fetch("/web/app.wasm"), go.importObject)
  .then((result) => {
    go.run(result.instance).then(
      () => self.postMessage({ failed: "app.wasm ended in the worker" }),
      (err) => self.postMessage({ failed: "app.wasm failed in the worker: " + err })
    );
    if (!self.smartpassFaceWorker) {
      self.postMessage({ failed: "app.wasm did not serve the face pipeline" });
      return;
    }
    for (const data of queue.splice(0)) {
      self.smartpassFaceWorker(data);
    }
  })
  .catch((err) => self.postMessage({ failed: "app.wasm did not start in the worker: " + err }));
