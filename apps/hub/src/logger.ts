/** pino: pretty when stdout is a terminal (or log.format=pretty), JSON lines otherwise. */
import type { Logger } from '@m2mhub/core';
import { pino } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(
  level: string,
  format: 'auto' | 'json' | 'pretty',
  isTty = Boolean(process.stdout.isTTY),
  destination: NodeJS.WritableStream | number = 1,
): Logger & { flush(): void } {
  const usePretty = format === 'pretty' || (format === 'auto' && isTty);
  const opts = {
    level,
    base: { service: 'm2mhub' },
    // Defence in depth: never print secrets even if a caller passes them.
    redact: { paths: ['password', '*.password', 'passwordHash', '*.passwordHash', 'secret', '*.secret', 'psk', '*.psk', 'token', '*.token', 'api_secret', '*.api_secret', 'authorization', '*.authorization', '*.headers.authorization', 'admin_password', '*.admin_password'], censor: '***' },
  };
  const logger = usePretty
    ? pino(opts, pretty({ colorize: isTty, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination }))
    : pino(opts, typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination);
  return logger as unknown as Logger & { flush(): void };
}
