/** Prints the config key reference (used to regenerate docs/config.md's table): `pnpm --filter @m2mhub/hub config-docs`. */
import { configReference, hubSchema } from './config/index';

process.stdout.write(`${configReference(hubSchema)}\n`);
