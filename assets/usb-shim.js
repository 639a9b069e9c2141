// A test and demo shim of navigator.usb: one Sony RC-S380 whose USB bulk
// transfers travel over a websocket to the server's simulated reader and
// card (/demo/usb). The PWA's real WebUSB code runs unchanged on top of it.
// Like Chrome, it refuses to claim a smart-card (class 0x0B) interface.
(() => {
  "use strict";
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/demo/usb";
  let socket = null;
  let queue = Promise.resolve();

  function connect() {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      ws.onopen = () => { socket = ws; resolve(ws); };
      ws.onerror = () => reject(new DOMException("The simulated reader is not reachable.", "NetworkError"));
    });
  }

  // call sends one message and resolves with the server's answer; calls
  // are serialised, as a USB pipe is.
  function call(bytes) {
    const next = queue.then(() => connect()).then((ws) => new Promise((resolve, reject) => {
      ws.onmessage = (ev) => {
        const a = new Uint8Array(ev.data);
        if (a[0] === 0) resolve(a.slice(1));
        else reject(new DOMException(new TextDecoder().decode(a.slice(1)), "NetworkError"));
      };
      ws.onclose = () => reject(new DOMException("The device was disconnected.", "NotFoundError"));
      ws.send(bytes);
    }));
    queue = next.catch(() => {});
    return next;
  }

  const iface = (n, cls) => ({ interfaceNumber: n, claimed: false, alternate: { interfaceClass: cls, endpoints: [] }, alternates: [] });
  const device = {
    vendorId: 0x054c, productId: 0x06c1, productName: "RC-S380/S (simulated)", manufacturerName: "Sony",
    opened: false,
    configuration: { configurationValue: 1, interfaces: [iface(0, 0xff)] },
    async open() { await connect(); this.opened = true; },
    async close() { this.opened = false; if (socket) socket.close(); socket = null; },
    async selectConfiguration() {},
    async claimInterface(n) {
      const i = this.configuration.interfaces.find((x) => x.interfaceNumber === n);
      if (!i) throw new DOMException("The interface number provided is not supported by the device in its current configuration.", "NotFoundError");
      if (i.alternate.interfaceClass === 0x0b) throw new DOMException("The requested interface implements a protected class.", "SecurityError");
      i.claimed = true;
    },
    async releaseInterface(n) {},
    async transferOut(ep, data) {
      const b = new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data);
      const msg = new Uint8Array(1 + b.length);
      msg[0] = 1; msg.set(b, 1);
      await call(msg);
      return { status: "ok", bytesWritten: b.length };
    },
    async transferIn(ep, length) {
      const got = await call(new Uint8Array([2, length >> 8, length & 0xff]));
      return { status: "ok", data: new DataView(got.buffer, got.byteOffset, got.byteLength) };
    },
  };
  Object.defineProperty(navigator, "usb", {
    configurable: true,
    value: {
      async requestDevice(options) {
        const ok = (options && options.filters || []).some((f) => f.vendorId === device.vendorId && (f.productId === undefined || f.productId === device.productId));
        if (!ok) throw new DOMException("No device selected.", "NotFoundError");
        return device;
      },
      async getDevices() { return [device]; },
      addEventListener() {}, removeEventListener() {},
    },
  });
})();
