/**
 * Protocol gateways started by the hub (the LwM2M gateway's engineer owns this file and
 * replaces the body; keep the signature). Nothing runs here yet.
 */
import type { HubContext, ListenerStatus } from './context';

export async function startGateways(ctx: HubContext): Promise<{ stop(): Promise<void>; status(): ListenerStatus[] }> {
  ctx.logger.debug('no gateways configured yet');
  return {
    async stop() {},
    status: () => [],
  };
}
