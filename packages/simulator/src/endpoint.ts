import { CoapEndpoint, type CoapEndpointOptions, type CoapLimits, UdpTransport } from '@m2mhub/coap';
import type { Datagram, DatagramTransport, PeerAddress } from '@m2mhub/core';
import type { DeviceCoapPort, SimulatedDevice } from './device';

/**
 * Wraps a transport so a sleeping device (queue mode) neither receives nor answers: incoming
 * datagrams are dropped while `device.asleep` (LwM2M Core §6.5.4: the client is unreachable).
 */
class SleepyTransport implements DatagramTransport {
  constructor(
    private readonly inner: DatagramTransport,
    private readonly device: SimulatedDevice,
  ) {}
  get kind() {
    return this.inner.kind;
  }
  start(): Promise<void> {
    return this.inner.start();
  }
  send(data: Uint8Array, peer: PeerAddress): Promise<void> | void {
    return this.inner.send(data, peer);
  }
  onDatagram(handler: (d: Datagram) => void): void {
    this.inner.onDatagram((d) => {
      if (!this.device.asleep) handler(d);
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  address(): PeerAddress {
    return this.inner.address();
  }
}

/**
 * Limits sized for one device: the CoAP defaults are sized for a server (a 100k-entry dedup
 * LRU preallocates megabytes), which would make thousands of simulated devices expensive.
 */
export const DEVICE_COAP_LIMITS: Partial<CoapLimits> = {
  dedupCacheSize: 64,
  maxExchanges: 32,
  maxExchangesPerPeer: 16,
  maxPendingRequests: 32,
  maxConcurrentTransfers: 4,
  maxObservations: 32,
};

export interface DeviceEndpointOptions extends Omit<CoapEndpointOptions, 'transport'> {
  /** Default: a new UDP socket on 127.0.0.1, ephemeral port. */
  transport?: DatagramTransport;
}

/**
 * Gives a simulated device its own CoAP endpoint (one socket per device: each device needs
 * its own address) and wires requests to `device.handle`. Notifications go out through the
 * endpoint's server-side Observe (RFC 7641 §4.2); a RST to one ends that observation.
 */
export async function startDevice(device: SimulatedDevice, opts: DeviceEndpointOptions = {}): Promise<CoapEndpoint> {
  const inner = opts.transport ?? new UdpTransport({ address: '127.0.0.1', port: 0 });
  const transport = new SleepyTransport(inner, device);
  const endpoint = new CoapEndpoint({
    ...opts,
    transport,
    limits: { ...DEVICE_COAP_LIMITS, ...opts.limits },
    hooks: { ...opts.hooks, onNotificationReset: (_peer, token) => device.observationReset(token) },
  });
  endpoint.fallback((req) => device.handle(req));
  const port: DeviceCoapPort = {
    request: (peer, req) => endpoint.request(peer, req),
    notify: (peer, token, seq, res, confirmable) => endpoint.notify(peer, token, seq, res, { confirmable }),
  };
  device.attach(port);
  await endpoint.start();
  return endpoint;
}
