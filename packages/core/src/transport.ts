/**
 * The datagram transport port. UDP and DTLS both implement it, so the CoAP stack does not
 * know which one it runs over (DESIGN.md §2). A DTLS transport attaches the peer's
 * authenticated identity to each datagram.
 */
export interface PeerAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** What DTLS authenticated about a peer; absent on plain UDP. */
export interface PeerIdentity {
  kind: 'psk' | 'rpk' | 'x509';
  /** PSK identity, hex SPKI fingerprint of a raw public key, or the certificate's subject CN. */
  id: string;
  /** Endpoint name bound to this identity by the credential store, if any. */
  endpoint?: string;
}

export interface Datagram {
  data: Uint8Array;
  peer: PeerAddress;
  identity?: PeerIdentity;
  /** Stable key for the peer's session: "address:port" for UDP, the connection id for DTLS with CID. */
  peerKey: string;
}

export interface DatagramTransport {
  /** Starts receiving; resolves when bound. */
  start(): Promise<void>;
  send(data: Uint8Array, peer: PeerAddress): Promise<void> | void;
  onDatagram(handler: (d: Datagram) => void): void;
  close(): Promise<void>;
  /** Bound local address (after start). */
  address(): PeerAddress;
  /** "udp" or "dtls": for logs, metrics and the LwM2M binding. */
  readonly kind: 'udp' | 'dtls' | 'memory';
}

export function peerKeyOf(p: PeerAddress): string {
  return p.family === 'IPv6' ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}
