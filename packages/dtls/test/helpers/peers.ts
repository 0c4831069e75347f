/** Helpers to run real peers (openssl, libcoap) in tests: binaries must exist (a missing one fails). */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';

export function requireBinary(name: string): string {
  let path = '';
  try {
    path = execFileSync('which', [name], { encoding: 'utf8' }).trim();
  } catch {}
  assert.ok(path, `${name} must be installed for this test`);
  return path;
}

/** A free UDP port on 127.0.0.1 (and, with `pair`, the one after it free too, for libcoap's coaps port). */
export async function freeUdpPort(pair = false): Promise<number> {
  for (;;) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    if (!pair || port >= 65535) {
      s.close();
      if (!pair) return port;
      continue;
    }
    const t = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      t.once('error', () => r(false));
      t.bind(port + 1, '127.0.0.1', () => r(true));
    });
    s.close();
    t.close();
    if (ok) return port;
  }
}

export interface Peer {
  proc: ChildProcess;
  out: () => string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

export function run(cmd: string, args: string[]): Peer {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  proc.stdout?.on('data', (d) => {
    buf += d.toString();
  });
  proc.stderr?.on('data', (d) => {
    buf += d.toString();
  });
  proc.stdin?.on('error', () => {});
  return {
    proc,
    out: () => buf,
    waitFor(re, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const start = Date.now();
        const tick = () => {
          const m = buf.match(re);
          if (m) return resolve(m[0]);
          if (Date.now() - start > timeoutMs) return reject(new Error(`timeout waiting for ${re} in output:\n${buf}`));
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    kill() {
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
