/**
 * The `lwm2m` config section (DESIGN.md §1). The LwM2M gateway extends this section with
 * EMQX's LwM2M gateway keys.
 */
import { bool, host, port } from './schema';

export const lwm2mSection = {
  udp: {
    enabled: bool(true, 'LwM2M over CoAP/UDP listener on'),
    port: port(5783, 'LwM2M over CoAP/UDP port'),
    bind: host('0.0.0.0', 'LwM2M over CoAP/UDP bind address'),
  },
  dtls: {
    enabled: bool(true, 'LwM2M over CoAP/DTLS 1.2 listener on'),
    port: port(5784, 'LwM2M over CoAP/DTLS port'),
    bind: host('0.0.0.0', 'LwM2M over CoAP/DTLS bind address'),
  },
};
