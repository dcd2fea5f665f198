// A TCP proxy in front of the app that a spec can cut, the way a real network drop happens:
// open connections are reset and new ones refused, while the browser still believes it is
// online (navigator.onLine stays true). Works the same in every engine, WebKit included.

import net from 'node:net';

/** Starts a proxy to `baseUrl` on a free loopback port: `{ url, cut(), restore(), close() }`. */
export async function startProxy(baseUrl) {
  const target = new URL(baseUrl);
  const sockets = new Set();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.resetAndDestroy?.() ?? client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      down = true;
      for (const socket of sockets) socket.resetAndDestroy?.() ?? socket.destroy();
    },
    restore() {
      down = false;
    },
    close() {
      down = true;
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
