/**
 * Per-endpoint bootstrap configurations (LwM2M Core §6.1, Security object 0 and Server object 1,
 * Appendix E.1 / E.2). Secrets (`pskKey`) stay in the store: never logged, never in events.
 */
export type SecurityMode = 'psk' | 'rpk' | 'x509' | 'nosec';
/** LwM2M Core E.1, resource 2 Security Mode. */
export const SECURITY_MODE_VALUE: Readonly<Record<SecurityMode, number>> = { psk: 0, rpk: 1, x509: 2, nosec: 3 };

export interface BootstrapServerAccount {
  /** Server URI written to /0/x/0, e.g. "coaps://hub.example:5784". */
  uri: string;
  securityMode: SecurityMode;
  /** /0/x/3 Public Key or Identity (PSK identity, UTF-8). */
  pskIdentity?: string;
  /** /0/x/5 Secret Key (the PSK). */
  pskKey?: Uint8Array;
  /**
   * LwM2M Core 1.1 E.1 resource 3 "Public Key or Identity" for `rpk` (the device's
   * SubjectPublicKeyInfo DER) and `x509` (the device certificate DER). Opaque bytes.
   */
  publicKeyOrIdentity?: Uint8Array;
  /** E.1 resource 4 "Server Public Key": the server's SPKI DER (`rpk`) or certificate DER (`x509`). */
  serverPublicKey?: Uint8Array;
  /** E.1 resource 5 "Secret Key" for `rpk` / `x509`: the device's private key (DER). Never logged. */
  secretKey?: Uint8Array;
  /** /0/x/10 and /1/x/0. */
  shortServerId: number;
  /** /1/x/1 (s). */
  lifetime: number;
  /** /1/x/7, e.g. "U" or "UQ". */
  binding: string;
  /** Instance ids used for /0 and /1 (default: 1 + index, leaving 0 to the bootstrap account). */
  securityInstanceId?: number;
  serverInstanceId?: number;
  /** /1/x/6 Notification Storing When Disabled or Offline (default true). */
  notificationStoring?: boolean;
}

export interface BootstrapConfig {
  endpoint: string;
  /** Start with a Bootstrap-Discover of "/" (default true). */
  discover?: boolean;
  /** Paths deleted first (Bootstrap-Delete, LwM2M Core §6.1.7.5); default ["/0", "/1"]. */
  deletes?: string[];
  servers: BootstrapServerAccount[];
  /** Content format of the writes; default: the client's `pct=`, else TLV. */
  contentFormat?: number;
  /**
   * Bootstrap-Read (LwM2M Core 1.1, Bootstrap Interface) of these paths after Discover, before
   * any Delete; only the Server object /1 and Access Control object /2 may be read (the client
   * refuses the Security object). Default: none. The result is on the `bootstrapStep` event
   * and `BootstrapSession.reads`.
   */
  reads?: string[];
}

export interface BootstrapConfigStore {
  get(endpoint: string): Promise<BootstrapConfig | undefined>;
  put(config: BootstrapConfig): Promise<void>;
  remove(endpoint: string): Promise<boolean>;
  list(): AsyncIterable<BootstrapConfig>;
}

export class InMemoryBootstrapConfigStore implements BootstrapConfigStore {
  private readonly configs = new Map<string, BootstrapConfig>();
  async get(endpoint: string): Promise<BootstrapConfig | undefined> {
    return this.configs.get(endpoint);
  }
  async put(config: BootstrapConfig): Promise<void> {
    this.configs.set(config.endpoint, config);
  }
  async remove(endpoint: string): Promise<boolean> {
    return this.configs.delete(endpoint);
  }
  async *list(): AsyncIterable<BootstrapConfig> {
    for (const c of [...this.configs.values()]) yield c;
  }
}
