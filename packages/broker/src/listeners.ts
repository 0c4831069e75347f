/**
 * Socket adapters: MQTT over TCP, TLS, WebSocket and secure WebSocket (DESIGN.md §1).
 * Each hands every accepted connection, as a Duplex, to `accept`.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { BrokerErrors } from './errors';

export type MqttTransport = 'tcp' | 'tls' | 'ws' | 'wss';

export interface TlsFiles {
  /** PEM certificate (chain) file. */
  cert: string;
  /** PEM private key file. */
  key: string;
  /** Optional CA bundle for client certificates. */
  ca?: string;
}

export interface ListenerSpec {
  /** "mqtt:tcp", "mqtt:ws", ... */
  name: string;
  transport: MqttTransport;
  port: number;
  bind: string;
  /** WebSocket path (ws/wss). */
  path?: string;
  tls?: TlsFiles;
}

/** One listener's state, as the hub's status endpoint lists it. */
export interface ListenerStatus {
  name: string;
  protocol: string;
  transport: string;
  bind: string;
  port: number;
  enabled: boolean;
  up: boolean;
  path?: string;
  error?: string;
}

export interface AcceptInfo {
  listener: string;
  transport: MqttTransport;
  remoteAddress: string | undefined;
  req?: IncomingMessage;
}

export interface RunningListener {
  spec: ListenerSpec;
  port(): number;
  up(): boolean;
  close(): Promise<void>;
}

function readTls(files: TlsFiles, name: string): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw BrokerErrors.tlsConfig(`${name}: cannot read ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const out: { cert: Buffer; key: Buffer; ca?: Buffer } = { cert: read('cert', files.cert), key: read('key', files.key) };
  if (files.ca) out.ca = read('ca', files.ca);
  return out;
}

function listen(server: NetServer | HttpServer, spec: ListenerSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(BrokerErrors.listenFailed(`${spec.name} listener cannot listen on ${spec.bind}:${spec.port}: ${why}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(spec.port, spec.bind, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startListener(
  spec: ListenerSpec,
  accept: (conn: Duplex, info: AcceptInfo) => void,
  opts: { maxWsPayload: number; onTlsError?: (err: Error) => void },
): Promise<RunningListener> {
  let server: NetServer | HttpServer;
  let wss: WebSocketServer | undefined;
  const remote = (s: { remoteAddress?: string | undefined }) => s.remoteAddress;
  if (spec.transport === 'tcp') {
    // noDelay: MQTT packets are small and latency-bound (Mosquitto sets TCP_NODELAY too);
    // with Nagle a PUBACK waits for the peer's delayed ACK.
    server = createNetServer({ noDelay: true }, (sock) => accept(sock, { listener: spec.name, transport: 'tcp', remoteAddress: remote(sock) }));
  } else if (spec.transport === 'tls') {
    if (!spec.tls) throw BrokerErrors.tlsConfig(`${spec.name}: cert and key are required`);
    const creds = readTls(spec.tls, spec.name);
    try {
      server = createTlsServer({ ...creds, noDelay: true }, (sock) => accept(sock, { listener: spec.name, transport: 'tls', remoteAddress: remote(sock) }));
    } catch (err) {
      throw BrokerErrors.tlsConfig(`${spec.name}: ${(err as Error).message}`, { cause: err });
    }
    server.on('tlsClientError', (err: Error) => opts.onTlsError?.(err));
  } else {
    let http: HttpServer;
    if (spec.transport === 'wss') {
      if (!spec.tls) throw BrokerErrors.tlsConfig(`${spec.name}: cert and key are required`);
      const creds = readTls(spec.tls, spec.name);
      try {
        http = createHttpsServer(creds);
      } catch (err) {
        throw BrokerErrors.tlsConfig(`${spec.name}: ${(err as Error).message}`, { cause: err });
      }
      http.on('tlsClientError', (err: Error) => opts.onTlsError?.(err));
    } else {
      http = createHttpServer();
    }
    http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end(`MQTT over WebSocket: connect with a WebSocket client to ${spec.path ?? '/mqtt'}\n`);
    });
    const transport = spec.transport;
    // RFC 6455 §4.1 / MQTT 3.1.1 §6: the client offers the "mqtt" subprotocol; ws echoes the first offered.
    wss = new WebSocketServer({ server: http, path: spec.path ?? '/mqtt', maxPayload: opts.maxWsPayload });
    wss.on('connection', (ws, req) => {
      const stream = createWebSocketStream(ws);
      accept(stream, { listener: spec.name, transport, remoteAddress: req.socket.remoteAddress, req });
    });
    wss.on('error', () => {});
    server = http;
  }
  await listen(server, spec);
  let isUp = true;
  return {
    spec,
    port: () => (server.address() as AddressInfo | null)?.port ?? spec.port,
    up: () => isUp && server.listening,
    async close() {
      isUp = false;
      if (wss) {
        for (const c of wss.clients) c.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
      }
      await closeServer(server);
    },
  };
}
