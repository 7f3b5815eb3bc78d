/**
 * Unrelated traffic beside a call, so flow selection is tested on real packets: a paced HTTP
 * download server and a DNS server on the remote side, a client on the local side that does a
 * few bounded downloads and DNS look-ups. Runs as its own process (`node traffic.js ...`) so
 * that `ip netns exec` can place each half in its namespace.
 *
 *   node traffic.js serve IP            HTTP on IP:8080 (/bytes?n=N), DNS on IP:53
 *   node traffic.js client IP SECONDS   downloads and look-ups against IP for SECONDS
 */
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import { onCleanup } from './cleanup';

const HTTP_PORT = 8080;
/** Download pace: a web download competing with the call, not a link-saturating burst. */
const PACE_BYTES_PER_S = 500_000;

function serve(ip: string): void {
  http
    .createServer((req, res) => {
      const n = Math.min(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n')) || 1000, 20_000_000);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      let sent = 0;
      const chunk = Buffer.alloc(PACE_BYTES_PER_S / 20, 0x5a);
      const tick = setInterval(() => {
        const k = Math.min(chunk.length, n - sent);
        res.write(chunk.subarray(0, k));
        sent += k;
        if (sent >= n) {
          clearInterval(tick);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(tick));
    })
    .listen(HTTP_PORT, ip);

  // Answers every A query with our own address (TTL 60): enough for look-up traffic.
  const dns = dgram.createSocket('udp4');
  dns.on('message', (q, rinfo) => {
    const answer = Buffer.concat([
      Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
      q.subarray(12),
      Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...ip.split('.').map(Number)]),
    ]);
    dns.send(answer, rinfo.port, rinfo.address);
  });
  dns.bind(53, ip);
}

function dnsQuery(name: string, id: number): Buffer {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

async function client(ip: string, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  const names = ['example.org', 'updates.example.net', 'cdn.example.com', 'mail.example.org', 'time.example.net'];
  const sock = dgram.createSocket('udp4');
  let id = 1;
  const lookups = setInterval(() => {
    sock.send(dnsQuery(names[id % names.length], id++), 53, ip);
  }, 4000);
  // Downloads of 1.5–3 MB at intervals, each lasting a few seconds at the server's pace.
  let size = 1_500_000;
  while (Date.now() < end - 10_000) {
    await new Promise<void>((resolve) => {
      http
        .get(`http://${ip}:${HTTP_PORT}/bytes?n=${size}`, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', () => resolve());
    });
    size = size === 1_500_000 ? 3_000_000 : 1_500_000;
    await new Promise((r) => setTimeout(r, 20_000));
  }
  clearInterval(lookups);
  sock.close();
}

/** Starts one half inside a namespace; the lab ends it by PID at cleanup. */
export function startTraffic(netns: string, role: 'serve' | 'client', ip: string, seconds = 0): void {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, __filename, role, ip, String(seconds)], {
    stdio: 'ignore',
  });
  onCleanup(`traffic ${role} (pid ${child.pid})`, () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
}

if (require.main === module) {
  const [role, ip, seconds] = process.argv.slice(2);
  if (role === 'serve') serve(ip);
  else if (role === 'client') void client(ip, Number(seconds)).then(() => process.exit(0));
  else {
    process.stderr.write('usage: node traffic.js serve IP | client IP SECONDS\n');
    process.exit(2);
  }
}
