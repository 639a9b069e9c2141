// A test and demo shim of navigator.usb: one simulated card reader whose
// USB bulk transfers travel over a websocket to the server's simulated
// reader and card (/demo/usb). The PWA's real WebUSB code runs unchanged
// on top of it. The reader is picked by the page's ?usb= (remembered in
// localStorage): rcs380 (default), rcs300, ccid (a generic smart-card
// reader: like Chrome, the shim refuses to claim its class 0x0B interface
// for an ordinary page) or ccid-granted (the same reader where the browser
// grants the class, as in an Isolated Web App). The card on it is picked
// by ?card= (also remembered): taro (default; PIN 1234, signature password
// DEMO2026) or hanako (his daughter, a child; card-info PIN 1234); a fresh
// card is put on the reader each time the page opens the device.
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  for (const [param, key] of [["usb", "smartpass.usb"], ["card", "smartpass.card"]]) {
    if (params.get(param)) localStorage.setItem(key, params.get(param));
  }
  const kind = localStorage.getItem("smartpass.usb") || "rcs380";

  const bulk = (n, direction) => ({ endpointNumber: n, direction, type: "bulk", packetSize: 64 });
  const iface = (n, cls, endpoints) => {
    const alt = { alternateSetting: 0, interfaceClass: cls, endpoints };
    return { interfaceNumber: n, claimed: false, alternate: alt, alternates: [alt] };
  };
  // Descriptors of each reader; endpoint numbers are read by the app from
  // these, as from a real device.
  const readers = {
    rcs380: { server: "rcs380", vendorId: 0x054c, productId: 0x06c1, productName: "RC-S380/S (simulated)",
      interfaces: [iface(0, 0xff, [bulk(1, "in"), bulk(2, "out")])] },
    rcs300: { server: "rcs300", vendorId: 0x054c, productId: 0x0dc8, productName: "RC-S300/S (simulated)",
      interfaces: [iface(0, 0x0b, [bulk(1, "in"), bulk(1, "out")]), iface(1, 0xff, [bulk(2, "in"), bulk(2, "out")])] },
    ccid: { server: "ccid", vendorId: 0x072f, productId: 0x223b, productName: "ACR1252U (simulated)",
      interfaces: [iface(0, 0x0b, [bulk(2, "in"), bulk(2, "out")])] },
  };
  const granted = kind === "ccid-granted";
  const spec = readers[granted ? "ccid" : kind] || readers.rcs380;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/demo/usb?reader=" + spec.server;
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

  const endpoint = (n, direction) => {
    const i = spec.interfaces.find((x) => x.claimed && x.alternate.endpoints.some((e) => e.endpointNumber === n && e.direction === direction));
    if (!i) throw new DOMException("The specified endpoint is not part of a claimed and selected alternate interface.", "NotFoundError");
  };
  const config = { configurationValue: 1, interfaces: spec.interfaces };
  const device = {
    vendorId: spec.vendorId, productId: spec.productId, productName: spec.productName, manufacturerName: "Smart Pass simulator",
    opened: false,
    configuration: config,
    configurations: [config],
    async open() {
      await connect();
      await call(new TextEncoder().encode("\x03" + (localStorage.getItem("smartpass.card") || "taro")));
      this.opened = true;
    },
    async close() { this.opened = false; if (socket) socket.close(); socket = null; },
    async selectConfiguration() {},
    async claimInterface(n) {
      const i = spec.interfaces.find((x) => x.interfaceNumber === n);
      if (!i) throw new DOMException("The interface number provided is not supported by the device in its current configuration.", "NotFoundError");
      if (i.alternate.interfaceClass === 0x0b && !granted) throw new DOMException("The requested interface implements a protected class.", "SecurityError");
      i.claimed = true;
    },
    async releaseInterface(n) {},
    async transferOut(ep, data) {
      endpoint(ep, "out");
      const b = new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data);
      const msg = new Uint8Array(1 + b.length);
      msg[0] = 1; msg.set(b, 1);
      await call(msg);
      return { status: "ok", bytesWritten: b.length };
    },
    async transferIn(ep, length) {
      endpoint(ep, "in");
      const msg = new Uint8Array(5);
      msg[0] = 2; new DataView(msg.buffer).setUint32(1, length);
      const got = await call(msg);
      return { status: "ok", data: new DataView(got.buffer, got.byteOffset, got.byteLength) };
    },
  };
  const matches = (f) => (f.vendorId === undefined || f.vendorId === device.vendorId) &&
    (f.productId === undefined || f.productId === device.productId) &&
    (f.classCode === undefined || spec.interfaces.some((i) => i.alternate.interfaceClass === f.classCode));
  Object.defineProperty(navigator, "usb", {
    configurable: true,
    value: {
      async requestDevice(options) {
        if (!(options && options.filters || []).some(matches)) throw new DOMException("No device selected.", "NotFoundError");
        return device;
      },
      async getDevices() { return [device]; },
      addEventListener() {}, removeEventListener() {},
    },
  });
})();
