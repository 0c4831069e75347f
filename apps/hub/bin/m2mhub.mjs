#!/usr/bin/env -S node --max-semi-space-size=32
// The `m2mhub` command: runs the TypeScript sources through tsx (no build step).
// --max-semi-space-size=32 (MB; Node 20's default is 16): a larger V8 young generation halves
// the scavenges per command and shortens the longest pauses, the latency tail of the LwM2M
// gateway at 5,000 commands/s (docs/mqtt-api.md "Performance"). `node bin/m2mhub.mjs` without
// the flag runs with Node's default.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
