/**
 * A name server for tests: answers A queries for the names it is given (RFC 1035), NXDOMAIN for
 * any other name, on UDP port 53 of `host` by default. Run as a command in a network namespace:
 *
 *   node test/node/dns-server.js 203.0.113.1 call.example.com=203.0.113.10 turn.example.com=203.0.113.11
 *
 * It prints `listening` once bound.
 */
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

/** The answer to one query `message` from `names` (name → IPv4), or undefined for what is not a query. */
export function answer(message, names) {
  if (message.length < 12 || message[2] & 0x80) return undefined; // too short, or a response
  const labels = [];
  let at = 12;
  while (at < message.length && message[at] !== 0) {
    const length = message[at];
    if (length > 63 || at + 1 + length > message.length) return undefined;
    labels.push(message.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (at + 5 > message.length) return undefined;
  const type = message.readUInt16BE(at + 1);
  const question = message.subarray(12, at + 5);
  const name = labels.join('.').toLowerCase();
  const address = names[name];
  const found = address !== undefined;
  const records = found && type === 1 ? 1 : 0;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.readUInt16BE(0), 0); // the query's id
  // QR, opcode 0, AA, RD copied; RA; RCODE 3 (NXDOMAIN) for an unknown name.
  header.writeUInt16BE(0x8400 | (message[2] & 0x01 ? 0x0100 : 0) | 0x0080 | (found ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records, 6);
  const parts = [header, question];
  if (records) {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(1, 2); // A
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(60, 6); // TTL
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
    parts.push(record);
  }
  return Buffer.concat(parts);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host, ...pairs] = process.argv.slice(2);
  const names = Object.fromEntries(pairs.map((pair) => pair.toLowerCase().split('=')));
  const socket = createSocket('udp4');
  socket.on('message', (message, from) => {
    const reply = answer(message, names);
    if (reply) socket.send(reply, from.port, from.address);
  });
  socket.bind(53, host, () => console.log('listening'));
}
