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
    // The page's origin is the proxy's; the server refuses posts whose Origin is not its
    // base_url, as it should. The proxy stands for the network between the two, so it says the
    // page came from the site (a browser writes each request's headers at once: one chunk).
    client.on('data', (chunk) => {
      const text = chunk.toString('latin1');
      const said = text.includes(proxyOrigin) ? text.replace(fromProxy, `$1${target.origin}`) : text;
      upstream.write(said === text ? chunk : Buffer.from(said, 'latin1'));
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyOrigin = `http://127.0.0.1:${server.address().port}`;
  const fromProxy = new RegExp(`^((?:origin|referer): )${proxyOrigin.replace(/[.]/g, '\\.')}`, 'gim');
  return {
    url: proxyOrigin,
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
