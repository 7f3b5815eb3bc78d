import { writePcap, udpPacket } from '../helpers/trace-writer';
import { syntheticCall } from './synthetic';
const pk = syntheticCall({ a: '192.168.1.15', b: '10.0.0.9', aPort: 50000, bPort: 60000, start: 1700000000.2, seconds: 6 });
for (let i = 0; i < 5; i++) pk.push(udpPacket({ src: '192.168.1.15', dst: '8.8.8.8', sport: 40000 + i, dport: 53, ts: 1700000001 + i * 0.3, payloadLen: 40 }));
writePcap('/tmp/smoke.pcap', pk.sort((a, b) => a.ts - b.ts));
