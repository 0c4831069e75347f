/**
 * `m2mhub`: loads the config, starts the hub in the foreground, stops cleanly on
 * SIGINT/SIGTERM (stop accepting, flush the store, exit within the shutdown timeout).
 * A bad config or a failed start prints one line and exits with code 1.
 */
import { resolve } from 'node:path';
import { hubSchema, loadConfig, helpText } from './config/index';
import { startHub } from './hub';
import { createLogger } from './logger';

// pnpm runs scripts in the package directory; resolve relative paths from where the user ran it.
const cwd = resolve(process.env.INIT_CWD ?? process.cwd());

function die(message: string): never {
  process.stderr.write(`m2mhub: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

let loaded: ReturnType<typeof loadConfig<typeof hubSchema>>;
try {
  loaded = loadConfig(hubSchema, { argv: process.argv.slice(2), env: process.env, cwd });
} catch (err) {
  die((err as Error).message);
}
if (loaded.help) {
  process.stdout.write(`${helpText(hubSchema)}\n`);
  process.exit(0);
}
const config = loaded.config;
const logger = createLogger(config.log.level, config.log.format);

let hub: Awaited<ReturnType<typeof startHub>>;
try {
  hub = await startHub(config, { logger, cwd });
} catch (err) {
  logger.error({ err }, 'start-up failed');
  die((err as Error).message);
}
logger.info({ ports: hub.ports, configFile: loaded.configFile }, 'm2mhub running');

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    logger.error({ timeoutMs: config.shutdown.timeout }, 'shutdown timed out, exiting anyway');
    process.exit(1);
  }, config.shutdown.timeout);
  force.unref();
  try {
    await hub.stop();
    clearTimeout(force);
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
