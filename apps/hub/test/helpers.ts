/** Test helpers: spawn the real `m2mhub` process on free ports and talk to it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { type EventEmitter, once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, requireTool, startRedis } from '@m2mhub/core/testing';

export { freePort, requireTool, startRedis };

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const MAIN = join(ROOT, 'apps/hub/src/main.ts');
export const HOST = '127.0.0.1';

/** A port the OS just handed out (bind 0, read, close). */
export function tempDir(prefix = 'm2mhub-hub-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Fails (never skips) when a tool the test needs is missing. */
export interface HubProcess {
  proc: ChildProcess;
  ports: Record<string, number>;
  logs: string[];
  stderr: () => string;
  /** Sends a signal and resolves with exit code/signal and how long it took. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export interface SpawnOptions {
  dataDir: string;
  args?: string[];
  env?: Record<string, string>;
  /** The REST API admin password (M2MHUB_ADMIN_PASSWORD); default TEST_ADMIN_PASSWORD, false: unset (the hub generates one). */
  adminPassword?: string | false;
}

/** What test hubs use as the `admin` password of the REST API (DESIGN.md §4). */
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

/** Basic auth header for the test admin (RFC 7617). */
export function adminAuth(password = TEST_ADMIN_PASSWORD): { authorization: string } {
  return { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
}

/** fetch with the test admin's Basic auth added to the headers. */
export function apiFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...adminAuth() } });
}

/** Env that binds every listener to 127.0.0.1 on a fresh free port. */
export async function portEnv(): Promise<Record<string, string>> {
  return {
    M2MHUB_MQTT__TCP__PORT: String(await freePort()),
    M2MHUB_MQTT__TCP__BIND: HOST,
    M2MHUB_MQTT__WS__PORT: String(await freePort()),
    M2MHUB_MQTT__WS__BIND: HOST,
    M2MHUB_MQTT__TLS__PORT: String(await freePort()),
    M2MHUB_MQTT__TLS__BIND: HOST,
    M2MHUB_MQTT__WSS__PORT: String(await freePort()),
    M2MHUB_MQTT__WSS__BIND: HOST,
    M2MHUB_API__PORT: String(await freePort()),
    M2MHUB_API__BIND: HOST,
    M2MHUB_LWM2M__UDP__PORT: '0',
    M2MHUB_LWM2M__UDP__BIND: HOST,
    M2MHUB_LWM2M__DTLS__PORT: '0',
    M2MHUB_LWM2M__DTLS__BIND: HOST,
  };
}

function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('M2MHUB_')) out[k] = v;
  return out;
}

/** Spawns `node --import tsx apps/hub/src/main.ts` and waits for its "m2mhub running" log line. */
export async function spawnHub(opts: SpawnOptions): Promise<HubProcess> {
  const password = opts.adminPassword ?? TEST_ADMIN_PASSWORD;
  const env = {
    ...cleanEnv(),
    M2MHUB_DATA_DIR: opts.dataDir,
    M2MHUB_LOG__FORMAT: 'json',
    ...(password === false ? {} : { M2MHUB_ADMIN_PASSWORD: password }),
    ...(opts.env ?? {}),
  };
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...(opts.args ?? [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  let err = '';
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  let buf = '';
  const ports = await new Promise<Record<string, number>>((resolvePorts, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start in 20 s; stderr: ${err}; logs: ${logs.join('\n')}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      buf += d;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const j = JSON.parse(line) as { msg?: string; ports?: Record<string, number> };
          if (j.msg === 'm2mhub running' && j.ports) {
            clearTimeout(timer);
            resolvePorts(j.ports);
          }
        } catch {}
        i = buf.indexOf('\n');
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before running: ${err}`));
    });
  });
  return {
    proc,
    ports,
    logs,
    stderr: () => err,
    async kill(signal) {
      const t0 = Date.now();
      if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode, ms: 0 };
      const exited = once(proc as EventEmitter, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      proc.kill(signal);
      const [code, sig] = await exited;
      return { code, signal: sig, ms: Date.now() - t0 };
    },
  };
}

/** Runs the hub expecting it to fail at start-up; resolves exit code and stderr. */
export async function runHubExpectingExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...cleanEnv(), M2MHUB_LOG__FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  proc.stdout.on('data', (d) => {
    stdout += d;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr, stdout };
}

/** Runs a command (mosquitto_pub, ...) with a timeout; resolves its output and exit code. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running command (mosquitto_sub) and collects stdout lines. */
export function background(cmd: string, args: string[]): { lines: string[]; proc: ChildProcess; waitLines(n: number, ms?: number): Promise<string[]>; stop(): void } {
  // stdbuf: mosquitto_sub block-buffers stdout on a pipe, which would hide its debug lines.
  const proc = spawn('stdbuf', ['-oL', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
  return {
    lines,
    proc,
    waitLines(n, ms = 10_000) {
      const until = Date.now() + ms;
      return new Promise((res, rej) => {
        const tick = () => {
          if (lines.length >= n) return res(lines.slice());
          if (Date.now() > until) return rej(new Error(`expected ${n} lines, got ${JSON.stringify(lines)}`));
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    stop() {
      proc.kill('SIGTERM');
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

